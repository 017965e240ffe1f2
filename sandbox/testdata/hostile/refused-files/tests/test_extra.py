def test_extra():
    assert False, "a refused new test was applied"
