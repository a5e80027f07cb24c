"""Reference tables shared by the generator and the champ rendering:
communes (postal code, INSEE code and département agree), départements,
countries. Everything is public geography; no person is described here.
"""

from __future__ import annotations

from typing import NamedTuple


class Commune(NamedTuple):
    name: str
    postal_code: str
    insee: str
    departement: str  # code: "75", "2A", "974"...


class Place(NamedTuple):
    """A street address; the label is built when rendered."""

    street_number: str
    street_name: str
    commune: Commune

    @property
    def street_address(self) -> str:
        return f"{self.street_number} {self.street_name}"

    @property
    def label(self) -> str:
        return f"{self.street_address} {self.commune.postal_code} {self.commune.name}"


DEPARTEMENTS = {
    "02": "Aisne",
    "06": "Alpes-Maritimes",
    "10": "Aube",
    "13": "Bouches-du-Rhône",
    "14": "Calvados",
    "03": "Allier",
    "04": "Alpes-de-Haute-Provence",
    "24": "Dordogne",
    "39": "Jura",
    "21": "Côte-d'Or",
    "25": "Doubs",
    "29": "Finistère",
    "2A": "Corse-du-Sud",
    "2B": "Haute-Corse",
    "30": "Gard",
    "31": "Haute-Garonne",
    "33": "Gironde",
    "34": "Hérault",
    "35": "Ille-et-Vilaine",
    "37": "Indre-et-Loire",
    "38": "Isère",
    "42": "Loire",
    "44": "Loire-Atlantique",
    "45": "Loiret",
    "49": "Maine-et-Loire",
    "51": "Marne",
    "52": "Haute-Marne",
    "54": "Meurthe-et-Moselle",
    "55": "Meuse",
    "57": "Moselle",
    "59": "Nord",
    "60": "Oise",
    "62": "Pas-de-Calais",
    "63": "Puy-de-Dôme",
    "64": "Pyrénées-Atlantiques",
    "66": "Pyrénées-Orientales",
    "67": "Bas-Rhin",
    "68": "Haut-Rhin",
    "69": "Rhône",
    "72": "Sarthe",
    "73": "Savoie",
    "74": "Haute-Savoie",
    "75": "Paris",
    "76": "Seine-Maritime",
    "77": "Seine-et-Marne",
    "78": "Yvelines",
    "80": "Somme",
    "83": "Var",
    "84": "Vaucluse",
    "86": "Vienne",
    "87": "Haute-Vienne",
    "88": "Vosges",
    "91": "Essonne",
    "92": "Hauts-de-Seine",
    "93": "Seine-Saint-Denis",
    "94": "Val-de-Marne",
    "95": "Val-d'Oise",
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon",
    "976": "Mayotte",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
}

# Régions by INSEE code, and the région of each département above (the collectivities overseas have none).
REGIONS = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}
DEPARTEMENT_REGIONS = {
    "02": "32",
    "03": "84",
    "04": "93",
    "06": "93",
    "10": "44",
    "13": "93",
    "14": "28",
    "21": "27",
    "24": "75",
    "25": "27",
    "29": "53",
    "2A": "94",
    "2B": "94",
    "30": "76",
    "31": "76",
    "33": "75",
    "34": "76",
    "35": "53",
    "37": "24",
    "38": "84",
    "39": "27",
    "42": "84",
    "44": "52",
    "45": "24",
    "49": "52",
    "51": "44",
    "52": "44",
    "54": "44",
    "55": "44",
    "57": "44",
    "59": "32",
    "60": "32",
    "62": "32",
    "63": "84",
    "64": "75",
    "66": "76",
    "67": "44",
    "68": "44",
    "69": "84",
    "72": "52",
    "73": "84",
    "74": "84",
    "75": "11",
    "76": "28",
    "77": "11",
    "78": "11",
    "80": "32",
    "83": "93",
    "84": "93",
    "86": "75",
    "87": "75",
    "88": "44",
    "91": "11",
    "92": "11",
    "93": "11",
    "94": "11",
    "95": "11",
    "971": "01",
    "972": "02",
    "973": "03",
    "974": "04",
    "976": "06",
}


class Epci(NamedTuple):
    """An intercommunalité: its SIREN-like code, its name and its département."""

    code: str
    name: str
    departement: str


EPCIS = [
    Epci("200054781", "Métropole du Grand Paris", "75"),
    Epci("200046977", "Métropole de Lyon", "69"),
    Epci("200054807", "Métropole d'Aix-Marseille-Provence", "13"),
    Epci("200093201", "Métropole Européenne de Lille", "59"),
    Epci("243100518", "Toulouse Métropole", "31"),
    Epci("243300316", "Bordeaux Métropole", "33"),
    Epci("244400404", "Nantes Métropole", "44"),
    Epci("246700488", "Eurométropole de Strasbourg", "67"),
    Epci("243500139", "Rennes Métropole", "35"),
]

# Overseas territories outside the APT procedure (French Polynesia and New Caledonia have their own labour
# law; their requests go to manual review); the collectivities 975, 977 and 978 are in it, with their own services.
OUT_OF_SCOPE_DEPARTEMENTS = frozenset({"987", "988"})
COLLECTIVITIES = frozenset({"975", "977", "978"})

COMMUNES = [
    Commune("Paris", "75011", "75111", "75"),
    Commune("Paris", "75013", "75113", "75"),
    Commune("Paris", "75018", "75118", "75"),
    Commune("Paris", "75005", "75105", "75"),
    Commune("Lyon", "69003", "69383", "69"),
    Commune("Villeurbanne", "69100", "69266", "69"),
    Commune("Marseille", "13001", "13201", "13"),
    Commune("Aix-en-Provence", "13100", "13001", "13"),
    Commune("Lille", "59000", "59350", "59"),
    Commune("Roubaix", "59100", "59512", "59"),
    Commune("Toulouse", "31000", "31555", "31"),
    Commune("Bordeaux", "33000", "33063", "33"),
    Commune("Nantes", "44000", "44109", "44"),
    Commune("Strasbourg", "67000", "67482", "67"),
    Commune("Montpellier", "34000", "34172", "34"),
    Commune("Rennes", "35000", "35238", "35"),
    Commune("Grenoble", "38000", "38185", "38"),
    Commune("Nice", "06000", "06088", "06"),
    Commune("Créteil", "94000", "94028", "94"),
    Commune("Vitry-sur-Seine", "94400", "94081", "94"),
    Commune("Saint-Denis", "93200", "93066", "93"),
    Commune("Montreuil", "93100", "93048", "93"),
    Commune("Nanterre", "92000", "92050", "92"),
    Commune("Boulogne-Billancourt", "92100", "92012", "92"),
    Commune("Versailles", "78000", "78646", "78"),
    Commune("Évry-Courcouronnes", "91000", "91228", "91"),
    Commune("Cergy", "95000", "95127", "95"),
    Commune("Reims", "51100", "51454", "51"),
    Commune("Metz", "57000", "57463", "57"),
    Commune("Nancy", "54000", "54395", "54"),
    Commune("Dijon", "21000", "21231", "21"),
    Commune("Besançon", "25000", "25056", "25"),
    Commune("Clermont-Ferrand", "63000", "63113", "63"),
    Commune("Saint-Étienne", "42000", "42218", "42"),
    Commune("Orléans", "45000", "45234", "45"),
    Commune("Amiens", "80000", "80021", "80"),
    Commune("Rouen", "76000", "76540", "76"),
    Commune("Le Havre", "76600", "76351", "76"),
    Commune("Caen", "14000", "14118", "14"),
    Commune("Brest", "29200", "29019", "29"),
    Commune("Tours", "37000", "37261", "37"),
    Commune("Poitiers", "86000", "86194", "86"),
    Commune("Limoges", "87000", "87085", "87"),
    Commune("Pau", "64000", "64445", "64"),
    Commune("Annecy", "74000", "74010", "74"),
    Commune("Chambéry", "73000", "73065", "73"),
    Commune("Avignon", "84000", "84007", "84"),
    Commune("Toulon", "83000", "83137", "83"),
    Commune("Perpignan", "66000", "66136", "66"),
    Commune("Nîmes", "30000", "30189", "30"),
    Commune("Angers", "49000", "49007", "49"),
    Commune("Le Mans", "72000", "72181", "72"),
    Commune("Mulhouse", "68100", "68224", "68"),
    Commune("Beauvais", "60000", "60057", "60"),
    Commune("Troyes", "10000", "10387", "10"),
    Commune("Chaumont", "52000", "52121", "52"),
    Commune("Bar-le-Duc", "55000", "55029", "55"),
    Commune("Épinal", "88000", "88160", "88"),
    Commune("Laon", "02000", "02408", "02"),
    Commune("Melun", "77000", "77288", "77"),
    Commune("Arras", "62000", "62041", "62"),
    Commune("Ajaccio", "20000", "2A004", "2A"),
    Commune("Bastia", "20200", "2B033", "2B"),
    Commune("Pointe-à-Pitre", "97110", "97120", "971"),
    Commune("Fort-de-France", "97200", "97209", "972"),
    Commune("Cayenne", "97300", "97302", "973"),
    Commune("Saint-Denis", "97400", "97411", "974"),
    Commune("Mamoudzou", "97600", "97611", "976"),
    Commune("Saint-Pierre", "97500", "97502", "975"),
    Commune("Saint-Barthélemy", "97133", "97701", "977"),
    Commune("Saint-Martin", "97150", "97801", "978"),
    Commune("Nouméa", "98800", "98818", "988"),
    Commune("Papeete", "98714", "98735", "987"),
]

# Communes whose postal code is shared with communes of another département, on the side the code's
# prefix does not name (La Poste's base officielle des codes postaux): the postal code alone misroutes them.
SHARED_POSTAL_CODE_COMMUNES = [
    Commune("Port-Sainte-Foy-et-Ponchapt", "33220", "24335", "24"),
    Commune("Saint-Pierre-Laval", "42620", "03250", "03"),
    Commune("Éloise", "01200", "74109", "74"),
    Commune("Lajoux", "01410", "39274", "39"),
    Commune("Saint-Eulien", "52100", "51478", "51"),
    Commune("Piégut", "05130", "04150", "04"),
]
# CEDEX addresses of établissements: a distribution code, not a commune's postal code (the INSEE code is the
# commune's). La Défense's CEDEX code is in Puteaux, Lyon 3e's and Bordeaux's in their city.
CEDEX_COMMUNES = [
    Commune("Paris La Défense Cedex", "92042", "92062", "92"),
    Commune("Lyon Cedex 03", "69424", "69383", "69"),
    Commune("Bordeaux Cedex", "33076", "33063", "33"),
]

STREETS = [
    "rue de la République",
    "avenue Jean-Jaurès",
    "boulevard Voltaire",
    "rue du Général-de-Gaulle",
    "place de l'Église",
    "chemin des Vignes",
    "allée des Tilleuls",
    "impasse Pasteur",
    "rue Victor-Hugo",
    "rue des Écoles",
    "avenue de la Gare",
    "rue Émile-Zola",
    "quai des Chartrons",
    "cours Lafayette",
    "rue d'Alsace-Lorraine",
    "boulevard de Strasbourg",
    "rue Saint-Éloi",
    "avenue du Maréchal-Foch",
]

COUNTRIES = {
    "DZ": "Algérie",
    "MA": "Maroc",
    "TN": "Tunisie",
    "SN": "Sénégal",
    "CN": "Chine",
    "IN": "Inde",
    "CI": "Côte d'Ivoire",
    "CM": "Cameroun",
    "VN": "Viêt Nam",
    "BR": "Brésil",
    "LB": "Liban",
    "US": "États-Unis",
    "CO": "Colombie",
    "MX": "Mexique",
    "TR": "Turquie",
    "GA": "Gabon",
    "MG": "Madagascar",
    "BJ": "Bénin",
    "IR": "Iran",
    "ML": "Mali",
    "HT": "Haïti",
    "KR": "Corée du Sud",
    "DE": "Allemagne",
    "IT": "Italie",
    "ES": "Espagne",
    "PT": "Portugal",
    "BE": "Belgique",
    "PL": "Pologne",
    "RO": "Roumanie",
    "CH": "Suisse",
    "NO": "Norvège",
    "MC": "Monaco",
    "AD": "Andorre",
    "SM": "Saint-Marin",
    "IS": "Islande",
}

# Students covered by the APT, weighted like Work in France (a third Algerian).
NATIONALITY_WEIGHTS = {
    "DZ": 33,
    "MA": 12,
    "TN": 8,
    "SN": 6,
    "CN": 7,
    "IN": 5,
    "CI": 5,
    "CM": 5,
    "VN": 4,
    "BR": 3,
    "LB": 3,
    "US": 2,
    "CO": 1,
    "MX": 1,
    "TR": 1,
    "GA": 1,
    "MG": 1,
    "BJ": 1,
    "IR": 1,
    "ML": 1,
    "HT": 1,
    "KR": 1,
}
# Nationals who need no work authorisation: out of scope for the APT.
EXEMPT_NATIONALITIES = ("DE", "IT", "ES", "PT", "BE", "PL", "RO", "CH", "NO", "MC", "AD", "SM", "IS")


def departement_name(code: str | None) -> str | None:
    return DEPARTEMENTS.get(code) if code else None


def country_name(code: str | None) -> str | None:
    return COUNTRIES.get(code) if code else None


def region_of(departement: str | None) -> str | None:
    return DEPARTEMENT_REGIONS.get(departement) if departement else None
