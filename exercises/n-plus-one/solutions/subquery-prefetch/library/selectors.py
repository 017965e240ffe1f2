from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Author, Book, Review, Tag


def books_for_api():
    """books_for_api is every query the book endpoints need, fixed in number."""
    review_counts = (
        Review.objects.filter(book=OuterRef("pk"))
        .order_by()
        .values("book")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Book.objects.prefetch_related(
        Prefetch("author", queryset=Author.objects.only("id", "name")),
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="tag_list"),
    ).annotate(
        reviews_total=Coalesce(Subquery(review_counts, output_field=IntegerField()), Value(0)),
    )
