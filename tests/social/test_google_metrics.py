"""Google Business Profile metrics when Google refuses some of them, on recorded responses replayed
through googleapiclient's HttpMockSequence (never the network): one refused metric does not lose
the others, as with the Meta connectors."""

import datetime as dt
import json

import pytest

from sales.enums import Network
from social import services
from social.enums import AccountState, ErrorCode
from social.metrics import API_METRICS, GOOGLE_PERFORMANCE_VERSION
from social.models import MetricSnapshot, SocialAccount
from social.providers import MetricValue, Permanent, RetryLater
from social.providers.google import UNKNOWN_METRIC, GoogleProvider
from tests.social.recorded import RecordingHttp, google_answer, recording

LOCATION = "accounts/106433017228011234567/locations/4563819901457381234"
FIRST, SECOND = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
GOOGLE_METRICS = list(API_METRICS[(Network.GOOGLE, GOOGLE_PERFORMANCE_VERSION)])
REFUSED = "INVALID_ARGUMENT Request contains an invalid argument."
# What the recorded two-day answer gives for every metric but food orders.
WITHOUT_FOOD_ORDERS = [
    MetricValue("bookings", FIRST, 2.0),
    MetricValue("bookings", SECOND, 0.0),
    MetricValue("calls", FIRST, 5.0),
    MetricValue("calls", SECOND, 7.0),
    MetricValue("directions", FIRST, 19.0),
    MetricValue("directions", SECOND, 23.0),
    MetricValue("menu_clicks", FIRST, 31.0),
    MetricValue("menu_clicks", SECOND, 27.0),
    MetricValue("views", FIRST, 1425.0),
    MetricValue("views", SECOND, 1418.0),
    MetricValue("website_clicks", FIRST, 14.0),
    MetricValue("website_clicks", SECOND, 11.0),
]


@pytest.fixture(autouse=True)
def _google_settings(settings):
    settings.GOOGLE_API_URL = ""


@pytest.fixture
def account(restaurant_factory):
    return SocialAccount.objects.create(
        restaurant=restaurant_factory(),
        network=Network.GOOGLE,
        external_id=LOCATION,
        name="Chez Paul",
        credentials=json.dumps({"token": "ya29.a0AfB_byC", "refresh_token": "1//0gLk7q"}),
    )


def only(metric: str) -> tuple[dict, str]:
    """Google's answer to a call asking `metric` alone: its series of the recorded two-day
    answer."""
    body = recording("google", "performance_two_days")["body"]
    series = [
        item
        for item in body["multiDailyMetricTimeSeries"][0]["dailyMetricTimeSeries"]
        if item["dailyMetric"] == metric
    ]
    return {"status": "200"}, json.dumps(
        {"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": series}]}
    )


def asked(http: RecordingHttp) -> list[list[str]]:
    return [request.query["dailyMetrics"] for request in http.requests]


def by_metric(values: list[MetricValue]) -> list[MetricValue]:
    return sorted(values, key=lambda value: (value.metric, value.day))


def food_orders_refused() -> list:
    """The whole call refused, then each metric alone: Google refuses BUSINESS_FOOD_ORDERS
    (deprecated in the discovery document) and answers the others."""
    return [google_answer("error_400_invalid_argument")] + [
        google_answer("error_400_invalid_argument")
        if metric == "BUSINESS_FOOD_ORDERS"
        else only(metric)
        for metric in GOOGLE_METRICS
    ]


def test_a_refused_metric_is_asked_alone_and_the_others_are_kept(account):
    http = RecordingHttp(food_orders_refused())

    result = GoogleProvider(account, http=http).fetch_metrics(FIRST, SECOND)

    assert by_metric(result.values) == WITHOUT_FOOD_ORDERS
    assert result.refused == {"BUSINESS_FOOD_ORDERS": REFUSED}
    assert asked(http) == [GOOGLE_METRICS] + [[metric] for metric in GOOGLE_METRICS]
    assert {request.path for request in http.requests} == {
        "/v1/locations/4563819901457381234:fetchMultiDailyMetricsTimeSeries"
    }


def test_a_refused_metric_is_stored_apart_and_the_others_are_saved(account, monkeypatch):
    http = RecordingHttp(food_orders_refused())
    monkeypatch.setattr(
        services, "provider_for", lambda account: GoogleProvider(account, http=http)
    )

    outcome = services.metrics_fetch(account=account, since=FIRST, until=SECOND)

    assert (outcome.stored, outcome.refused) == (12, {"BUSINESS_FOOD_ORDERS": REFUSED})
    assert sorted(MetricSnapshot.objects.values_list("metric", "day", "value")) == [
        (value.metric, value.day, value.value) for value in WITHOUT_FOOD_ORDERS
    ]
    account.refresh_from_db()
    assert (account.state, account.last_error_code, account.last_error) == (
        AccountState.OK,
        ErrorCode.METRICS_REFUSED,
        f"BUSINESS_FOOD_ORDERS: {REFUSED}",
    )


def test_every_metric_refused_is_a_permanent_error(account, monkeypatch):
    answers = [google_answer("error_400_invalid_argument")] * (len(GOOGLE_METRICS) + 1)
    http = RecordingHttp(answers)
    monkeypatch.setattr(
        services, "provider_for", lambda account: GoogleProvider(account, http=http)
    )

    with pytest.raises(Permanent) as raised:
        GoogleProvider(account, http=RecordingHttp(list(answers))).fetch_metrics(FIRST, SECOND)
    outcome = services.metrics_fetch(account=account, since=FIRST, until=SECOND)

    assert str(raised.value).startswith(
        f"Google refused every metric (BUSINESS_BOOKINGS: {REFUSED}; BUSINESS_DIRECTION_REQUESTS:"
    )
    assert outcome.stored == 0 and outcome.error == str(raised.value)
    assert MetricSnapshot.objects.count() == 0
    account.refresh_from_db()
    assert (account.state, account.last_error_code) == (AccountState.ERROR, ErrorCode.PERMANENT)


def test_a_metric_unknown_to_the_discovery_document_is_refused_without_a_call(account, monkeypatch):
    monkeypatch.setitem(
        API_METRICS,
        (Network.GOOGLE, GOOGLE_PERFORMANCE_VERSION),
        {"BUSINESS_MESSAGES_SENT": "interactions"}
        | API_METRICS[(Network.GOOGLE, GOOGLE_PERFORMANCE_VERSION)],
    )
    http = RecordingHttp([google_answer("performance_two_days")])

    result = GoogleProvider(account, http=http).fetch_metrics(FIRST, SECOND)

    assert result.refused == {"BUSINESS_MESSAGES_SENT": UNKNOWN_METRIC}
    assert asked(http) == [GOOGLE_METRICS]
    assert len(result.values) == 14
    assert not any(value.metric == "interactions" for value in result.values)


def test_only_unknown_metrics_are_a_permanent_error_without_a_call(account, monkeypatch):
    monkeypatch.setitem(
        API_METRICS,
        (Network.GOOGLE, GOOGLE_PERFORMANCE_VERSION),
        {"BUSINESS_MESSAGES_SENT": "interactions"},
    )
    http = RecordingHttp([])

    with pytest.raises(Permanent) as raised:
        GoogleProvider(account, http=http).fetch_metrics(FIRST, SECOND)

    assert str(raised.value) == (
        f"Google refused every metric (BUSINESS_MESSAGES_SENT: {UNKNOWN_METRIC})"
    )
    assert http.requests == []


def test_a_server_error_while_asking_metric_by_metric_retries_later(account):
    http = RecordingHttp(
        [
            google_answer("error_400_invalid_argument"),
            only(GOOGLE_METRICS[0]),
            google_answer("error_503"),
        ]
    )

    with pytest.raises(RetryLater):
        GoogleProvider(account, http=http).fetch_metrics(FIRST, SECOND)

    assert asked(http) == [GOOGLE_METRICS, [GOOGLE_METRICS[0]], [GOOGLE_METRICS[1]]]


def test_a_permission_refusal_is_not_asked_metric_by_metric(account):
    http = RecordingHttp([google_answer("error_403_permission")])

    with pytest.raises(Permanent) as raised:
        GoogleProvider(account, http=http).fetch_metrics(FIRST, SECOND)

    assert str(raised.value) == (
        "Google refused the request (403 PERMISSION_DENIED The caller does not have permission)"
    )
    assert len(http.requests) == 1
