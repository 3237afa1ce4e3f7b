"""Real local servers standing in for the outside world: FakeSlack (slack.py), FakeSMTP (smtp.py),
HttpSink (http_sink.py).

Pytest fixtures for them are in fixtures.py (`from tests.fakes.fixtures import fake_slack, fake_smtp, http_sink`).
"""
