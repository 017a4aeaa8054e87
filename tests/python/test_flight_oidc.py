"""OIDC with ADBC over TLS: ADBC's own OAuth support
(``adbc.flight.sql.oauth.flow=client_credentials``) gets a token from the
test's identity provider and runs a query end to end; a token sent as the
authorization header works too; a wrong client secret and a forged or
expired token are refused."""

from __future__ import annotations

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pytest

Opt = adbc_driver_flightsql.DatabaseOptions


def _connect(uri: str, ca: bytes, **options: str):
    kwargs = {Opt.TLS_ROOT_CERTS.value: ca.decode(), **options}
    return flight_sql.connect(uri, db_kwargs=kwargs, autocommit=True)


def _answer(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("select 6 * 7 as answer")
        return cur.fetchall()


def test_adbc_client_credentials_flow_runs_a_query(oidc_tls_stack) -> None:
    uri, ca, idp = oidc_tls_stack
    before = idp.issued
    options = {
        Opt.OAUTH_FLOW.value: adbc_driver_flightsql.OAuthFlowType.CLIENT_CREDENTIALS.value,
        Opt.OAUTH_TOKEN_URI.value: f"{idp.url}/token",
        Opt.OAUTH_CLIENT_ID.value: idp.CLIENT_ID,
        Opt.OAUTH_CLIENT_SECRET.value: idp.CLIENT_SECRET,
    }
    with _connect(uri, ca, **options) as conn:
        assert _answer(conn) == [(42,)]
    assert idp.issued > before, "ADBC fetched its token from the provider"


def test_a_wrong_client_secret_gets_no_connection(oidc_tls_stack) -> None:
    uri, ca, idp = oidc_tls_stack
    options = {
        Opt.OAUTH_FLOW.value: adbc_driver_flightsql.OAuthFlowType.CLIENT_CREDENTIALS.value,
        Opt.OAUTH_TOKEN_URI.value: f"{idp.url}/token",
        Opt.OAUTH_CLIENT_ID.value: idp.CLIENT_ID,
        Opt.OAUTH_CLIENT_SECRET.value: "wrong",
    }
    with pytest.raises(adbc_driver_manager.Error):
        with _connect(uri, ca, **options) as conn:
            _answer(conn)


def test_a_token_in_the_authorization_header(oidc_tls_stack) -> None:
    uri, ca, idp = oidc_tls_stack
    header = {Opt.AUTHORIZATION_HEADER.value: f"Bearer {idp.token('header-user')}"}
    with _connect(uri, ca, **header) as conn:
        assert _answer(conn) == [(42,)]


@pytest.mark.parametrize("why", ["expired", "forged"])
def test_an_expired_or_forged_token_is_refused(oidc_tls_stack, why: str) -> None:
    uri, ca, idp = oidc_tls_stack
    token = idp.token("mallory", expires_in=-3600) if why == "expired" else idp.token("mallory")[:-4] + "AAAA"
    header = {Opt.AUTHORIZATION_HEADER.value: f"Bearer {token}"}
    with pytest.raises(adbc_driver_manager.Error, match="(?i)unauthenticated|invalid token"):
        with _connect(uri, ca, **header) as conn:
            _answer(conn)
