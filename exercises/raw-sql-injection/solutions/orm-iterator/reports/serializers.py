from rest_framework import serializers

SORTABLE = ("placed_on", "total_cents", "customer_name", "reference")


class OrderReportParams(serializers.Serializer):
    """The report's query parameters, validated before any SQL is built."""

    customer = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    status = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    min_total = serializers.IntegerField(required=False)
    placed_from = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    placed_to = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    sort = serializers.ChoiceField(choices=SORTABLE, required=False, default="placed_on")
    direction = serializers.ChoiceField(choices=("asc", "desc"), required=False, default="desc")


class OrderRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    customer_name = serializers.CharField()
    status = serializers.CharField()
    total_cents = serializers.IntegerField()
    placed_on = serializers.DateField()
