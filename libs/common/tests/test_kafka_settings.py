"""Kafka security settings: a SASL protocol needs a user and a real password, and the password shows
neither in the settings' text nor in the error that refuses them."""

import pytest
from pydantic import SecretStr, ValidationError

from ozg_common.settings import ServiceSettings

PASSWORD = "s3cret-scram-password"


def test_sasl_without_a_user_is_refused_without_echoing_the_password() -> None:
    with pytest.raises(ValidationError) as refused:
        ServiceSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_password=SecretStr(PASSWORD))
    assert "SASL_SSL needs kafka_sasl_username" in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_sasl_with_a_placeholder_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_sasl_password must be set to a real secret"):
        ServiceSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="ozg")


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="kafka_ssl_certfile and kafka_ssl_keyfile go together"):
        ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_certfile="/etc/ozg/kafka/client.pem")


def test_the_password_reaches_the_client_options_and_no_text() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_username="ozg", kafka_sasl_password=SecretStr(PASSWORD)
    )
    options = settings.kafka_security.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "ozg"
    assert options["sasl_plain_password"] == PASSWORD
    assert options["ssl_context"].check_hostname
    assert PASSWORD not in repr(settings) + str(settings) + repr(settings.kafka_security)


def test_plaintext_gives_no_tls_and_no_login() -> None:
    assert ServiceSettings().kafka_security.client_options() == {"security_protocol": "PLAINTEXT"}
