"""Hidden check: the database itself refuses a negative stock, whoever writes it."""

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from shop.models import Product


def refused(write):
    """refused runs write and returns the PostgreSQL error code it failed with (None if it succeeded)."""
    try:
        with transaction.atomic():
            write()
    except IntegrityError as exc:
        return getattr(exc.__cause__, "pgcode", "integrity")
    except DatabaseError as exc:
        return getattr(exc.__cause__, "pgcode", "error")
    return None


@pytest.mark.check("stock-constraint")
def test_stock_constraint(rng):
    p = Product.objects.create(name="Judge's item", price_cents=100, stock=rng.randint(1, 9))
    code = refused(lambda: Product.objects.filter(pk=p.pk).update(stock=-rng.randint(1, 5)))
    assert code == "23514", ("the judge set a product's stock below zero and the database %s; expected a CHECK "
                             "constraint to refuse it" % ("accepted it" if code is None else "failed with %s" % code))
    code = refused(lambda: Product.objects.create(name="Judge's other item", price_cents=100, stock=-1))
    assert code == "23514", "the judge created a product with stock -1 and the database %s" % (
        "accepted it" if code is None else "failed with %s" % code)
    assert refused(lambda: Product.objects.filter(pk=p.pk).update(stock=0)) is None, \
        "the database refused a stock of 0 (sold out must be allowed)"
    assert refused(lambda: Product.objects.filter(pk=p.pk).update(stock=rng.randint(1000, 100000))) is None, \
        "the database refused a large stock"
