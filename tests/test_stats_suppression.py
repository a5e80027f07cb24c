from stats.suppression import complementary, primary, suppress


def test_primary_hides_every_count_under_five_including_zero():
    assert primary({"a": 0, "b": 4, "c": 5, "d": 120}) == {"a", "b"}


def test_complementary_hides_the_next_smallest_cell_of_rows_and_columns():
    counts = {
        ("r1", "a"): 10,
        ("r1", "b"): 3,
        ("r1", "c"): 20,
        ("r1", "t"): 33,
        ("r2", "a"): 12,
        ("r2", "b"): 8,
        ("r2", "c"): 30,
        ("r2", "t"): 50,
        ("m", "a"): 22,
        ("m", "b"): 11,
        ("m", "c"): 50,
        ("m", "t"): 83,
    }
    rows = [[(r, c) for c in "abct"] for r in ("r1", "r2")]
    columns = [[(r, c) for r in ("r1", "r2", "m")] for c in "abct"]
    margins = frozenset(("m", c) for c in "abct")
    hidden = suppress(counts, rows + columns, fixed=margins)
    assert hidden == {("r1", "b"), ("r1", "a"), ("r2", "b"), ("r2", "a")}
    for relation in rows + columns:
        assert sum(cell in hidden for cell in relation) != 1


def test_relations_with_two_hidden_cells_are_left_alone():
    counts = {"a": 2, "b": 3, "c": 50, "t": 55}
    assert complementary(counts, [["a", "b", "c", "t"]], {"a", "b"}) == {"a", "b"}
