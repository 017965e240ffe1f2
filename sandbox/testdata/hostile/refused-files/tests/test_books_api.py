def test_public_fails():
    assert False, "a refused public test was applied"
