"""HTTP behaviour of the public validity check (Flask test client)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import sessionmaker

from core.db import make_engine
from core.models import ValidityRecord
from core.settings import ValiditySettings
from validity.app import API_PATH, create_app
from validity.derive import birth_date_hash
from validity.ratelimit import TokenBucketLimiter

PEPPER = b"http-test-pepper-" + b"z" * 32
TODAY = date(2026, 6, 1)
BIRTH = date(2001, 3, 21)
VALID, EXPIRED, WITHDRAWN, UNKNOWN, NOT_STARTED = 5550001, 5550002, 5550003, 5559999, 5550004


def record(number: int, state: str, end: date, start: date = date(2026, 1, 5)) -> ValidityRecord:
    return ValidityRecord(
        dossier_number=number,
        birth_date_hash=birth_date_hash(PEPPER, number, BIRTH),
        masked_name="Ka*** Be***",
        siret="73282932000074",
        employer_name="Boulangerie des Deux Rives",
        apt_start=start,
        apt_end=end,
        state=state,
        updated_at=datetime(2026, 5, 1, tzinfo=UTC),
    )


@pytest.fixture
def filled_sessions(sessions):
    with sessions() as session, session.begin():
        session.add_all(
            [
                record(VALID, "valid", date(2026, 12, 31)),
                record(EXPIRED, "expired", date(2026, 3, 31)),
                record(WITHDRAWN, "withdrawn", date(2026, 12, 31)),
                record(NOT_STARTED, "valid", date(2027, 6, 10), start=date(2026, 6, 11)),
            ]
        )
    return sessions


@pytest.fixture
def app(filled_sessions, clock):
    limiter = TokenBucketLimiter(per_minute=6, burst=50, clock=clock.time)
    return create_app(filled_sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY, limiter=limiter)


@pytest.fixture
def client(app):
    return app.test_client()


def api(client, number, birth: str = "2001-03-21"):
    return client.post(API_PATH, data={"numero": str(number), "date_naissance": birth})


def page_text(response) -> str:
    return response.get_data(as_text=True)


def record_without_employer_name(number: int) -> ValidityRecord:
    """A record the store published before it kept the employer's name."""
    published = record(number, "valid", date(2026, 12, 31))
    published.employer_name = None
    return published


class TestApi:
    def test_messages_fit_the_input(self, client):
        response = client.post(API_PATH, json={"numero": "4" * 60, "date_naissance": "30/01/2030"})
        assert response.status_code == 400
        assert response.json["champs"] == {
            "numero": "Le numéro de dossier est trop long : 60 chiffres, alors qu'il en compte au plus 12, par "
            "exemple 1234567.",
            "date_naissance": "La date de naissance est dans le futur : vérifiez l'année, par exemple 21/03/2001.",
        }

    def test_valid(self, client):
        response = api(client, VALID)
        assert response.status_code == 200
        assert response.json == {
            "resultat": "valide",
            "libelle": "en cours de validité",
            "explication": [
                "Cette autorisation provisoire de travail est en vigueur du 5 janvier 2026 au 31 décembre 2026 inclus.",
                "L'autorisation ne vaut que pour l'employeur (SIRET) et l'emploi pour lesquels elle a été délivrée.",
            ],
            "autorisation": {
                "numero_dossier": VALID,
                "date_debut": "2026-01-05",
                "date_fin": "2026-12-31",
                "siret": "73282932000074",
                "nom_employeur": "Boulangerie des Deux Rives",
                "nom_masque": "Ka*** Be***",
            },
        }

    def test_granted_but_not_started_is_not_in_force(self, client):
        response = api(client, NOT_STARTED)
        assert response.json["resultat"] == "accordee_a_venir"
        assert response.json["libelle"] == "accordée, pas encore en vigueur"
        assert response.json["explication"][1] == (
            "Elle n'est pas encore en vigueur : l'étudiant ne peut pas travailler "
            "sous couvert de cette autorisation avant le 11 juin 2026."
        )
        assert response.json["autorisation"]["date_debut"] == "2026-06-11"

    def test_first_and_last_days_are_in_force(self, sessions):
        with sessions() as session, session.begin():
            session.add(record(VALID, "valid", start=date(2026, 6, 1), end=date(2026, 6, 30)))
        for today, outcome in (
            (date(2026, 5, 31), "accordee_a_venir"),
            (date(2026, 6, 1), "valide"),
            (date(2026, 6, 30), "valide"),
            (date(2026, 7, 1), "expiree"),
        ):
            app = create_app(sessions, ValiditySettings(pepper=PEPPER), today=lambda today=today: today)
            assert api(app.test_client(), VALID).json["resultat"] == outcome, today

    def test_expired(self, client):
        response = api(client, EXPIRED)
        assert response.json["resultat"] == "expiree"
        assert response.json["libelle"] == "expirée"
        assert response.json["autorisation"]["date_fin"] == "2026-03-31"

    def test_valid_record_whose_end_passed_since_the_sync_is_expired(self, sessions, clock):
        with sessions() as session, session.begin():
            session.add(record(VALID, "valid", date(2026, 5, 31)))
        app = create_app(sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY)
        assert api(app.test_client(), VALID).json["resultat"] == "expiree"

    def test_wrong_birth_date_unknown_number_and_withdrawn_look_the_same(self, client):
        wrong_date = api(client, VALID, "2001-03-22")
        unknown = api(client, UNKNOWN)
        withdrawn = api(client, WITHDRAWN)
        assert wrong_date.json["resultat"] == "aucune_correspondance"
        assert wrong_date.json["libelle"] == "aucune autorisation publiée ne correspond"
        assert "autorisation" not in wrong_date.json
        assert "ne permet pas de conclure que l'étudiant n'a pas d'autorisation" in wrong_date.json["explication"][1]
        for response in (unknown, withdrawn):
            assert response.status_code == wrong_date.status_code == 200
            assert response.get_data() == wrong_date.get_data()
            assert sorted(response.headers.keys()) == sorted(wrong_date.headers.keys())

    def test_unknown_number_still_computes_and_compares_a_hash(self, client, monkeypatch):
        import validity.lookup as lookup_module

        compared = []
        real_compare = lookup_module.hmac.compare_digest
        monkeypatch.setattr(
            lookup_module.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real_compare(a, b)
        )
        api(client, UNKNOWN)
        api(client, VALID, "2001-03-22")
        assert len(compared) == 2
        assert all(len(a) == len(b) == 64 for a, b in compared)

    def test_post_json(self, client):
        response = client.post(API_PATH, json={"numero": VALID, "date_naissance": "21/03/2001"})
        assert response.json["resultat"] == "valide"

    def test_post_form(self, client):
        response = client.post(API_PATH, data={"numero": str(VALID), "date_naissance": "21/03/2001"})
        assert response.json["resultat"] == "valide"

    @pytest.mark.parametrize(
        "params, bad_fields",
        [
            ({}, {"numero", "date_naissance"}),
            ({"numero": "12a4", "date_naissance": "2001-03-21"}, {"numero"}),
            ({"numero": "-5", "date_naissance": "2001-03-21"}, {"numero"}),
            ({"numero": "1" * 20, "date_naissance": "2001-03-21"}, {"numero"}),
            ({"numero": "123", "date_naissance": "31/02/2001"}, {"date_naissance"}),
            ({"numero": "123", "date_naissance": "21-13-2001"}, {"date_naissance"}),
            ({"numero": "123", "date_naissance": "2099-01-01"}, {"date_naissance"}),
        ],
    )
    def test_malformed_input_is_a_clear_400(self, client, params, bad_fields):
        response = client.post(API_PATH, data=params)
        assert response.status_code == 400
        assert response.json["erreur"] == "requete_invalide"
        assert set(response.json["champs"]) == bad_fields
        assert all(message[0].isupper() and message.endswith(".") for message in response.json["champs"].values())

    @pytest.mark.parametrize(
        "body, content_type",
        [("{not json", "application/json"), ("[1, 2]", "application/json"), ('"text"', "application/json")],
    )
    def test_body_that_is_not_a_json_object(self, client, body, content_type):
        response = client.post(API_PATH, data=body, content_type=content_type)
        assert response.status_code == 400
        assert response.json["message"] == "Le corps de la requête doit être un objet JSON valide."

    def test_json_with_wrong_types(self, client):
        response = client.post(API_PATH, json={"numero": [1], "date_naissance": 20010321})
        assert response.status_code == 400
        assert set(response.json["champs"]) == {"numero", "date_naissance"}

    def test_oversized_request(self, client):
        response = client.post(API_PATH, data={"numero": "1" * 10_000, "date_naissance": "x"})
        assert response.status_code == 413
        assert response.json["erreur"] == "requete_trop_volumineuse"

    def test_get_is_refused_and_reads_nothing_of_the_url(self, client, caplog):
        # The birth date in a URL ends up in proxy logs: only POST is answered.
        caplog.set_level(logging.INFO, logger="validity")
        response = client.get(API_PATH, query_string={"numero": VALID, "date_naissance": "2001-03-21"})
        assert response.status_code == 405 and response.headers["Allow"] == "POST"
        assert response.json["erreur"] == "methode_non_autorisee"
        assert "Utilisez POST" in response.json["message"] and "journaux" in response.json["message"]
        assert "resultat" not in response.json and "lookup" not in caplog.text
        page = client.get("/", query_string={"numero": VALID, "date_naissance": "21/03/2001"})
        assert page.status_code == 405 and "formulaire" in page_text(page) and "Ka***" not in page_text(page)
        assert "21/03/2001" not in page_text(page)
        assert client.get("/").status_code == 200

    def test_unknown_api_path_and_wrong_method_answer_in_french_json(self, client):
        assert client.get("/api/v1/rien").json["message"] == "La page demandée n'existe pas."
        response = client.put(API_PATH)
        assert response.status_code == 405
        assert response.json["erreur"] == "methode_non_autorisee"


class TestPage:
    def test_form(self, client):
        response = client.get("/")
        html = page_text(response)
        assert response.status_code == 200
        assert '<html lang="fr">' in html
        assert '<label for="numero">' in html and '<label for="date_naissance">' in html
        assert "<script" not in html

    def test_valid_answer(self, client):
        response = client.post("/", data={"numero": str(VALID), "date_naissance": "21/03/2001"})
        html = page_text(response)
        assert response.status_code == 200
        assert "<title>Autorisation en cours de validité" in html
        assert "en vigueur du 5 janvier 2026 au 31 décembre 2026 inclus" in html
        for shown in ("Ka*** Be***", "5 janvier 2026", "31 décembre 2026"):
            assert shown in html
        # The employer, by name and by its SIRET grouped as it is printed (no-break spaces: it never wraps).
        assert "<dt>Employeur</dt><dd>Boulangerie des Deux Rives</dd>" in html
        assert "<dt>SIRET de l'employeur</dt><dd>732\u00a0829\u00a0320\u00a000074</dd>" in html

    def test_a_record_published_without_the_employers_name_says_so(self, sessions):
        with sessions() as session, session.begin():
            session.add(record_without_employer_name(VALID))
        app = create_app(sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY)
        html = page_text(app.test_client().post("/", data={"numero": str(VALID), "date_naissance": "21/03/2001"}))
        assert "<dt>Employeur</dt><dd>non renseigné</dd>" in html

    @pytest.mark.parametrize("typed", ["21/3/01", "21 03 2001", "21-03-2001", "21.03.2001", "2001-03-21"])
    def test_the_birth_date_as_people_type_it(self, client, typed):
        html = page_text(client.post("/", data={"numero": str(VALID), "date_naissance": typed}))
        assert "<title>Autorisation en cours de validité" in html

    @pytest.mark.parametrize(
        "numero, typed, message",
        [
            (
                "4" * 60,
                "21/03/2001",
                "Le numéro de dossier est trop long : 60 chiffres, alors qu&#39;il en compte au plus 12",
            ),
            (str(VALID), "30/01/2030", "La date de naissance est dans le futur : vérifiez l&#39;année"),
            (str(VALID), "30/02/2001", "Cette date de naissance n&#39;existe pas : vérifiez le jour et le mois"),
        ],
    )
    def test_the_message_fits_what_was_typed(self, client, numero, typed, message):
        response = client.post("/", data={"numero": numero, "date_naissance": typed})
        html = page_text(response)
        assert response.status_code == 400
        assert message in html
        assert "uniquement de chiffres" not in html and "pas une date réelle" not in html

    def test_not_started_answer_says_granted_and_from_when(self, client):
        html = page_text(client.post("/", data={"numero": str(NOT_STARTED), "date_naissance": "21/03/2001"}))
        assert "<title>Autorisation accordée, valable à partir du 11 juin 2026" in html
        assert "pas encore en vigueur" in html and "avant le 11 juin 2026" in html
        assert "en cours de validité" not in html

    def test_expired_answer(self, client):
        html = page_text(client.post("/", data={"numero": str(EXPIRED), "date_naissance": "2001-03-21"}))
        assert "Autorisation expirée" in html
        assert "31 mars 2026" in html

    def test_wrong_birth_date_and_unknown_number_look_the_same(self, client):
        wrong = client.post("/", data={"numero": str(VALID), "date_naissance": "22/03/2001"})
        unknown = client.post("/", data={"numero": str(UNKNOWN), "date_naissance": "22/03/2001"})
        for response in (wrong, unknown):
            html = page_text(response)
            assert response.status_code == 200
            assert "<title>Aucune autorisation trouvée" in html
            assert "ne permet pas de conclure que l" in html and "ses coordonnées figurent sur la décision" in html
            assert "ne dispose pas" not in html and "non valide" not in html
            assert "Ka***" not in html and "73282932000074" not in html

        # Only the echoed number and the per-response nonce differ.
        def normalised(response, number):
            return re.sub(r'nonce="[^"]+"', "", page_text(response)).replace(str(number), "N")

        assert normalised(wrong, VALID) == normalised(unknown, UNKNOWN)

    def test_malformed_input_shows_the_errors(self, client):
        response = client.post("/", data={"numero": "abc", "date_naissance": ""})
        html = page_text(response)
        assert response.status_code == 400
        assert "<title>Erreur : " in html
        assert "Le formulaire contient 2 erreurs" in html
        assert 'aria-invalid="true"' in html and 'aria-describedby="numero-error"' in html
        assert 'href="#numero"' in html
        assert "Traceback" not in html

    def test_input_is_escaped(self, client):
        html = page_text(client.post("/", data={"numero": "<b>x</b>", "date_naissance": "1"}))
        assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html

    def test_unknown_page_is_french(self, client):
        response = client.get("/nulle-part")
        assert response.status_code == 404
        assert "Page introuvable" in page_text(response)


class TestRateLimit:
    def test_limit_then_refill(self, filled_sessions, clock):
        limiter = TokenBucketLimiter(per_minute=6, burst=2, clock=clock.time)
        client = create_app(
            filled_sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY, limiter=limiter
        ).test_client()
        assert api(client, VALID).status_code == 200
        assert client.post("/", data={"numero": str(VALID), "date_naissance": "21/03/2001"}).status_code == 200
        limited = api(client, VALID)
        assert limited.status_code == 429
        assert limited.json["erreur"] == "trop_de_requetes"
        assert "trop de vérifications" in limited.json["message"]
        assert int(limited.headers["Retry-After"]) >= 1
        page = client.post("/", data={"numero": str(VALID), "date_naissance": "21/03/2001"})
        assert page.status_code == 429
        assert "Trop de vérifications" in page_text(page) and "Ka***" not in page_text(page)
        clock.advance(seconds=10)  # 6 per minute: one token every 10 s
        assert api(client, VALID).status_code == 200
        assert api(client, VALID).status_code == 429

    def test_limit_is_per_client(self, filled_sessions, clock):
        limiter = TokenBucketLimiter(per_minute=1, burst=1, clock=clock.time)
        client = create_app(
            filled_sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY, limiter=limiter
        ).test_client()
        first = {"REMOTE_ADDR": "192.0.2.1"}
        other = {"REMOTE_ADDR": "192.0.2.2"}
        query = {"numero": str(VALID), "date_naissance": "2001-03-21"}
        assert client.post(API_PATH, data=query, environ_base=first).status_code == 200
        assert client.post(API_PATH, data=query, environ_base=first).status_code == 429
        assert client.post(API_PATH, data=query, environ_base=other).status_code == 200

    def test_forwarded_for_counts_only_behind_a_trusted_proxy(self, filled_sessions, clock):
        query = {"numero": str(VALID), "date_naissance": "2001-03-21"}
        for proxies, second_status in ((0, 429), (1, 200)):
            limiter = TokenBucketLimiter(per_minute=1, burst=1, clock=clock.time)
            settings = ValiditySettings(pepper=PEPPER, trusted_proxies=proxies)
            client = create_app(filled_sessions, settings, today=lambda: TODAY, limiter=limiter).test_client()
            client.post(API_PATH, data=query, headers={"X-Forwarded-For": "198.51.100.1"})
            second = client.post(API_PATH, data=query, headers={"X-Forwarded-For": "198.51.100.2"})
            assert second.status_code == second_status

    def test_page_view_and_health_are_not_limited(self, filled_sessions, clock):
        limiter = TokenBucketLimiter(per_minute=1, burst=1, clock=clock.time)
        client = create_app(
            filled_sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY, limiter=limiter
        ).test_client()
        assert all(client.get("/").status_code == 200 for _ in range(3))
        assert all(client.get("/healthz").status_code == 200 for _ in range(3))


class TestSecurity:
    @pytest.mark.parametrize("path", ["/", API_PATH, "/healthz", "/nulle-part"])
    def test_headers(self, client, path):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in headers

    def test_style_nonce_matches_the_csp(self, client):
        response = client.get("/")
        nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert f'<style nonce="{nonce}">' in page_text(response)
        assert client.get("/").headers["Content-Security-Policy"] != response.headers["Content-Security-Policy"]

    def test_hsts_behind_https(self, client, app):
        assert "max-age=" in client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"]

    def test_hsts_forced(self, filled_sessions):
        app = create_app(filled_sessions, ValiditySettings(pepper=PEPPER, force_hsts=True), today=lambda: TODAY)
        assert "Strict-Transport-Security" in app.test_client().get("/").headers

    def test_logs_only_the_outcome(self, client, caplog):
        caplog.set_level(logging.DEBUG)
        api(client, VALID)
        api(client, UNKNOWN)
        client.post("/", data={"numero": "12x", "date_naissance": "2001-03-21"})
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "valide" in logged and "aucune_correspondance" in logged and "invalid_input" in logged
        for secret in (str(VALID), str(UNKNOWN), "2001", "21/03", "12x", "Ka***", "7328293"):
            assert secret not in logged

    def test_unexpected_error_is_a_french_500_without_details(self, filled_sessions, caplog):
        def broken_sessions():
            raise RuntimeError("SELECT * WHERE number = 5550001 -- secret")

        app = create_app(broken_sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY)
        client = app.test_client()
        page = client.post("/", data={"numero": str(VALID), "date_naissance": "21/03/2001"})
        api_response = api(client, VALID)
        assert page.status_code == api_response.status_code == 500
        assert "Une erreur est survenue" in page_text(page)
        assert api_response.json["erreur"] == "erreur_interne"
        for text in (page_text(page), page_text(api_response), caplog.text):
            assert "secret" not in text and "Traceback" not in text


class TestHealth:
    def test_ok(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json == {"statut": "ok"}

    def test_database_without_the_table(self, tmp_path):
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        app = create_app(sessionmaker(engine), ValiditySettings(pepper=PEPPER), today=lambda: TODAY)
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json == {"statut": "indisponible"}
        engine.dispose()
