"""The pièces a case asks for come from procedure.yaml alone (issue #20, item 2).

A condition (`when`, `unless`) is compiled at load into the record fields it
reads: one the checks cannot evaluate is refused there, naming the file and
the pièce, instead of never firing.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from mappings.checks import check_dossier, required_documents
from mappings.procedure import PROCEDURE_FILE, DefinitionError, parse_procedure
from mappings.records import ContractType, Document
from mappings.rules import RULES_FILE, parse_rules
from tests.test_checks import complete, pdf

RAW_PROCEDURE = yaml.safe_load(PROCEDURE_FILE.read_text(encoding="utf-8"))
RAW_RULES = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def with_piece(**piece):
    """The procedure and its rules with one more pièce, as a newcomer adds it to procedure.yaml."""
    raw = copy.deepcopy(RAW_PROCEDURE)
    raw["champs"].append(
        {
            "key": "pj_nouvelle",
            "type": "piece_justificative",
            "label": "Nouvelle pièce",
            "source": "un texte public (docs/apt-documents.md)",
            **piece,
        }
    )
    procedure = parse_procedure(raw)
    return parse_rules(copy.deepcopy(RAW_RULES), procedure)


def test_a_new_conditional_piece_is_asked_in_its_case_with_no_other_file_to_change():
    rules = with_piece(when={"contrat_type": ["Contrat doctoral"]})
    mapped = complete(contract_type=ContractType.DOCTORAL)
    assert "pj_nouvelle" in required_documents(mapped, rules)
    assert [(f.code, f.field, f.message) for f in check_dossier(mapped, rules)] == [
        ("missing_document", "pj_nouvelle", "Pièce manquante : nouvelle pièce")
    ]
    mapped.documents["pj_nouvelle"] = Document("pj_nouvelle", [pdf()])
    assert check_dossier(mapped, rules) == []
    assert "pj_nouvelle" not in required_documents(complete(), rules)


def test_a_yes_no_champ_the_mapping_stores_is_a_condition_that_fires():
    """The issue's `when: {residence_un_an: [false]}` was accepted and never fired: it is read now."""
    rules = with_piece(when={"residence_un_an": [False]})
    mapped = complete()
    assert "pj_nouvelle" not in required_documents(mapped, rules)
    mapped.student.resident_one_year = False
    assert "pj_nouvelle" in required_documents(mapped, rules)


def test_unless_takes_a_general_piece_away_in_one_case():
    raw = copy.deepcopy(RAW_PROCEDURE)
    contrat = next(c for c in raw["champs"] if c["key"] == "pj_contrat")
    contrat["unless"] = {"depose_par": ["L'étudiant, mandaté par l'employeur"]}
    rules = parse_rules(copy.deepcopy(RAW_RULES), parse_procedure(raw))
    mapped = complete()
    assert "pj_contrat" in required_documents(mapped, rules)
    mapped.employer.filed_by_student = True
    assert "pj_contrat" not in required_documents(mapped, rules) and "pj_mandat" in required_documents(mapped, rules)


@pytest.mark.parametrize(
    "when, message",
    [
        # A champ the mapping spreads over several fields (code and name): nothing to compare a label with.
        (
            {"nationalite": ["DZ"]},
            "procedure.yaml: champs/pj_nouvelle when: 'nationalite' is not a champ the checks can evaluate",
        ),
        ({"nom": ["Dupont"]}, "'nom' is not a champ the checks can evaluate"),
        (
            {"contrat_type": ["Convention CIFR"]},
            "procedure.yaml: champs/pj_nouvelle when: 'Convention CIFR' is not a value of 'contrat_type' (CDD, CDI,",
        ),
        ({"residence_un_an": ["non"]}, "'non' is not a value of 'residence_un_an' (true, false)"),
    ],
)
def test_a_condition_the_checks_cannot_evaluate_is_refused_at_load_with_its_place(when, message):
    with pytest.raises(DefinitionError) as refused:
        with_piece(when=when)
    assert str(refused.value).startswith(message) or message in str(refused.value)


def test_an_unless_is_checked_the_same_way():
    with pytest.raises(DefinitionError, match="champs/pj_nouvelle unless: 'adresse_etudiant' is not a champ"):
        with_piece(required=True, unless={"adresse_etudiant": ["x"]})


def test_a_contract_type_rules_yaml_names_must_be_an_option_of_the_form():
    raw = copy.deepcopy(RAW_RULES)
    raw["residence"]["one_year_required"].append("stage_ete")
    with pytest.raises(
        DefinitionError,
        match=r"rules.yaml: residence.one_year_required: 'stage_ete' is not the "
        r"value of an option of contrat_type",
    ):
        parse_rules(raw, parse_procedure(copy.deepcopy(RAW_PROCEDURE)))


def test_every_conditional_piece_says_where_it_comes_from():
    procedure = parse_procedure(copy.deepcopy(RAW_PROCEDURE))
    pieces = [d for d in procedure.champs if d.type == "piece_justificative"]
    assert pieces and all(d.source and "docs/apt-" in d.source for d in pieces)
