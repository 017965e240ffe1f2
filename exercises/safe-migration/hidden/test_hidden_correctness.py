"""Hidden correctness checks: the data ends up right, both ways."""

import io

import pytest
from conftest import NEW, OLD, OLD_COLUMNS, expected
from django.core.management import call_command


@pytest.mark.djgrade(points=2, category="correctness", name="Backfill fills every existing order")
def test_backfill_fills_every_existing_order(mig):
    mig.reset_to_old()
    before = mig.populate(750)
    mig.forward()
    cols = mig.columns()
    assert NEW in cols, "orders_order has no normalized_email column after all migrations"
    assert not cols[NEW].nullable, "normalized_email must be required (NOT NULL) once every migration has run"
    assert mig.old_rows() == before, "the existing columns changed while migrating"
    wrong = mig.wrong_values()
    assert not wrong, f"{len(wrong)} of {len(before)} orders have a wrong normalized_email, e.g. {wrong[:3]}"


@pytest.mark.djgrade(points=2, category="correctness", name="Migrations reverse to the old release and re-apply")
def test_reverse_and_reapply(mig):
    mig.reset_to_old()
    before = mig.populate(400)
    mig.forward()
    try:
        mig.migrate(OLD)
    except Exception as exc:
        pytest.fail(f"migrating back to {OLD} failed: {type(exc).__name__}: {exc}")
    cols = mig.columns()
    assert NEW not in cols, "migrating back to the old release left the normalized_email column behind"
    assert sorted(cols) == sorted(OLD_COLUMNS)
    assert mig.old_rows() == before, "migrating back lost or changed existing data"
    assert mig.old_release_insert() is None
    try:
        mig.forward()
    except Exception as exc:
        pytest.fail(f"migrating forward again failed: {type(exc).__name__}: {exc}")
    assert mig.old_rows() == before, "migrating forward again lost or changed existing data"
    wrong = mig.wrong_values()
    assert not wrong, f"{len(wrong)} orders have a wrong normalized_email after re-applying, e.g. {wrong[:3]}"


@pytest.mark.djgrade(points=1, category="correctness", name="New and edited orders get a normalized email")
def test_new_orders_get_normalized_email(mig):
    from orders.models import Order

    order = Order.objects.create(customer_email="  Zoe.Quinn@Example.ORG ", total_cents=1234)
    order.refresh_from_db()
    assert order.normalized_email == "zoe.quinn@example.org"

    order.customer_email = "Zoe@NEW-Example.net"
    order.save()
    order.refresh_from_db()
    assert order.normalized_email == "zoe@new-example.net", "saving a changed e-mail must update normalized_email"

    other = Order(customer_email=" BEN@example.com", total_cents=5)
    other.save()
    assert Order.objects.get(pk=other.pk).normalized_email == expected(" BEN@example.com")


@pytest.mark.djgrade(points=1, category="correctness", name="Models and migrations agree")
def test_models_and_migrations_agree(mig):
    out = io.StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, interactive=False, stdout=out, stderr=out)
    except SystemExit as exc:
        assert not exc.code, "makemigrations --check found changes the migrations lack:\n" + out.getvalue()[-1500:]
    except Exception as exc:
        pytest.fail(f"makemigrations --check failed: {type(exc).__name__}: {exc}")
