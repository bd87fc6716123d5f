import pytest

import tenure

VECTOR = "s:apple.D8Y+pkTAmeR0PobOhY4G97PRW+j7bUnP/5m6/On1MCU"


def test_express_vector_and_rotation():
    assert tenure.sign_cookie("apple", "keyboard cat") == VECTOR
    assert tenure.unsign_cookie(VECTOR, ["new", "keyboard cat"]) == "apple"
    assert tenure.unsign_cookie_index(VECTOR, ["new", "keyboard cat"]) == ("apple", 1)
    assert tenure.unsign_cookie(VECTOR.replace("D8Y", "D8Z"), "keyboard cat") is None
    assert tenure.encode_uri_component(VECTOR) == "s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU"


def test_set_cookie_and_parsing():
    h = tenure.build_set_cookie("v", name="__Host-sid", max_age=60, now=0)
    assert h == "__Host-sid=v; Max-Age=60; Path=/; Expires=Thu, 01 Jan 1970 00:01:00 GMT; HttpOnly; SameSite=Lax; Secure"
    with pytest.raises(tenure.InvalidValue, match="name"):
        tenure.build_set_cookie("v", name="__Host-sid", secure=False)
    with pytest.raises(tenure.InvalidValue, match="value"):
        tenure.build_set_cookie("a;b")
    assert tenure.parse_cookie_header('a=1; b="2"; junk') == [("a", "1"), ("b", "2")]
    with pytest.raises(tenure.InvalidPolicy, match="secret 0"):
        tenure.check_secrets(["short"])
    assert tenure.parse_bearer("Bearer abc") == "abc"


def test_the_public_lifecycle_speaks_seconds():
    """tenure.WebConfig is the core's lifecycle in the Python API's units (#17): ages are
    timedeltas or seconds, instants seconds since the epoch."""
    from datetime import timedelta

    month = tenure.WebConfig("k" * 32, max_age=timedelta(days=30))
    assert month.max_age == timedelta(days=30)
    assert month.server_timeouts() == (timedelta(days=30), timedelta(days=30))
    month.check_timeouts(timedelta(days=30))
    month.check_timeouts(None)
    with pytest.raises(tenure.InvalidPolicy, match="2592000000 ms.*1800000 ms"):
        month.check_timeouts(30 * 60)
    with pytest.raises(tenure.InvalidPolicy, match="max_age"):
        tenure.WebConfig("k" * 32, max_age=-1)
    web = tenure.WebConfig(["k" * 32], max_age=60)
    h = web.respond(web.find(None), "created", id="A" * 22, accessed=True, now=3600)
    assert "Max-Age=60" in h.set_cookie and "Expires=Thu, 01 Jan 1970 01:01:00 GMT" in h.set_cookie
    h = web.respond(web.find(None), "created", id="A" * 22, now=0, max_age=None)
    assert "Max-Age" not in h.set_cookie and h.reason == "created"
    assert "Expires=Thu, 01 Jan 1970 00:01:00 GMT" in web.set_cookie("A" * 22, now=0)
    with pytest.raises(tenure.InvalidValue, match="now"):
        web.set_cookie("A" * 22, now=-1)
