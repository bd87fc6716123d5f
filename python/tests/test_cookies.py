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
    h = tenure.build_set_cookie("v", name="__Host-sid", max_age_ms=60_000, now_ms=0)
    assert h == "__Host-sid=v; Max-Age=60; Path=/; Expires=Thu, 01 Jan 1970 00:01:00 GMT; HttpOnly; SameSite=Lax; Secure"
    with pytest.raises(tenure.InvalidValue, match="name"):
        tenure.build_set_cookie("v", name="__Host-sid", secure=False)
    with pytest.raises(tenure.InvalidValue, match="value"):
        tenure.build_set_cookie("a;b")
    assert tenure.parse_cookie_header('a=1; b="2"; junk') == [("a", "1"), ("b", "2")]
    with pytest.raises(tenure.InvalidPolicy, match="secret 0"):
        tenure.check_secrets(["short"])
    assert tenure.parse_bearer("Bearer abc") == "abc"
