from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD
from tests.govern.api.support import API


def test_a_token_is_issued_for_valid_credentials_and_authenticates(api_client, lead):
    # when
    issued = api_client.post(
        f"{API}auth/token/", {"username": lead.username, "password": PASSWORD}, format="json"
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.json().get('token')}")
    me = api_client.get(f"{API}me/")

    # then
    assert issued.status_code == 200
    assert issued.json() == {"token": Token.objects.get(user=lead).key}
    assert me.status_code == 200
    assert me.json()["username"] == lead.username


def test_wrong_credentials_are_a_400_without_a_token(api_client, lead):
    # when
    response = api_client.post(
        f"{API}auth/token/", {"username": lead.username, "password": "wrong"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Unable to log in with provided credentials.",
            "fields": {"non_field_errors": ["Unable to log in with provided credentials."]},
        }
    }
    assert not Token.objects.exists()


def test_a_bad_token_is_a_401_in_the_error_shape(api_client, lead):
    # given
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    # when
    response = api_client.get(f"{API}departments/")

    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": {"code": "authentication_failed", "message": "Invalid token.", "fields": {}}
    }


def test_a_deactivated_persons_token_stops_working(api_client, lead):
    # given
    token = Token.objects.create(user=lead)
    lead.is_active = False
    lead.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    # when
    response = api_client.get(f"{API}me/")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_a_browser_session_authenticates_too(api_client, viewer):
    # given
    assert api_client.login(username=viewer.username, password=PASSWORD)

    # when
    response = api_client.get(f"{API}me/")

    # then
    assert response.status_code == 200
    assert response.json()["id"] == viewer.pk
