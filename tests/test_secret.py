"""Statistical secrecy rules (threshold 11 people)."""

import pandas as pd
import pytest

from methods.secret import SECRET_THRESHOLD, assert_no_small_cells, mask


def test_threshold_is_eleven_people():
    assert SECRET_THRESHOLD == 11


def test_cells_of_one_to_ten_people_are_masked_eleven_is_published():
    frame = pd.DataFrame({"commune": list("abcd"), "n": [10, 11, 1, 500], "score": [3.1, 3.2, 3.3, 3.4]})
    out = mask(frame, "n", ["score"])
    assert out["secret"].tolist() == [True, False, True, False]
    assert out["score"].tolist() == [None, 3.2, None, 3.4]
    assert out["n"].tolist() == [None, 11, None, 500]


def test_zero_describes_nobody_and_stays_published():
    out = mask(pd.DataFrame({"n": [0, 40]}), "n")
    assert out["secret"].tolist() == [False, False]


def test_single_masked_commune_in_an_epci_forces_a_second_mask():
    frame = pd.DataFrame({"epci": ["A", "A", "A", "B", "B"], "n": [5, 40, 300, 6, 7]})
    out = mask(frame, "n", group="epci")
    # EPCI A: 5 is masked, so 40 (the smallest other) is masked too; B already has two masked.
    assert out["secret"].tolist() == [True, True, False, True, True]


def test_export_guard_refuses_small_cells():
    assert_no_small_cells(pd.DataFrame({"n": [0, 11, 250]}), "n")
    with pytest.raises(ValueError, match="secret statistique"):
        assert_no_small_cells(pd.DataFrame({"n": [11, 3]}), "n")
