"""The SSRF guard senders of webhooks and callbacks call through, without the network but for this
machine's resolver."""

import ipaddress

import pytest

from ozg_common.webhooks import TargetGuard, TargetRefused, canonical_host


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/kop",
        "https://10.1.2.3/kop",
        "https://192.168.0.10/kop",
        "https://169.254.169.254/latest",
        "https://[::1]/kop",
        "https://[::ffff:127.0.0.1]/kop",
        "https://224.0.0.1/kop",
        "https://127.1/kop",
        "https://2130706433/kop",
        "http://93.184.215.14/kop",
        "ftp://93.184.215.14/kop",
        "https://user:pw@93.184.215.14/kop",
        # NAT64 (RFC 6052): the well-known prefix reaches the IPv4 address in its last 32 bits,
        # the local-use prefix (RFC 8215) is an operator's own network.
        "https://[64:ff9b::a01:203]/kop",
        "https://[64:ff9b::7f00:1]/kop",
        "https://[64:ff9b::a9fe:a9fe]/latest",
        "https://[64:ff9b:1::5db8:d70e]/kop",
        # Other IPv6 forms of internal IPv4 addresses, and site-local IPv6.
        "https://[2002:a01:203::1]/kop",
        "https://[::ffff:0:7f00:1]/kop",
        "https://[::7f00:1]/kop",
        "https://[::5db8:d70e]/kop",
        "https://[fec0::1]/kop",
    ],
)
def test_ssrf_guard_refuses(url: str) -> None:
    with pytest.raises(TargetRefused):
        TargetGuard().check(url)


def test_ssrf_guard_allows_what_settings_allow() -> None:
    TargetGuard().check("https://93.184.215.14/kop")
    TargetGuard().check("https://[64:ff9b::5db8:d70e]/kop")  # 93.184.215.14 through NAT64
    TargetGuard().check("https://[2002:5db8:d70e::1]/kop")  # and through 6to4
    TargetGuard().check("https://[2a00:1450:4001:82b::200e]/kop")
    TargetGuard(allow_loopback=True).check("https://127.0.0.1/kop")
    TargetGuard(allowed_hosts=["10.1.2.3"]).check("https://10.1.2.3/kop")
    TargetGuard(allow_http=True).check("http://93.184.215.14/kop")
    with pytest.raises(TargetRefused):
        TargetGuard(allow_loopback=True).check("https://10.1.2.3/kop")


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        ("10.20.0.0/16", "https://10.20.3.4/kop"),  # the municipality's network
        ("0:0:0:0:0:0:0:1", "https://[::1]/kop"),  # any notation of an address
        ("[FD00::0001]", "https://[fd00::1]/kop"),
    ],
)
def test_allowed_addresses_match_in_any_notation(entry: str, url: str) -> None:
    TargetGuard(allowed_hosts=[entry]).check(url)


def test_allowed_networks_end_where_they_end() -> None:
    with pytest.raises(TargetRefused):
        TargetGuard(allowed_hosts=["10.20.0.0/16"]).check("https://10.21.0.1/kop")


@pytest.mark.parametrize(
    ("entry", "host"),
    [
        ("FACHVERFAHREN.Kommune.example.", "fachverfahren.kommune.example"),  # case, the root's dot
        ("bürgeramt.example", "xn--brgeramt-65a.example"),  # as a URL carries it (IDNA)
        ("xn--brgeramt-65a.example", "bürgeramt.example"),
        ("fachverfahren.kommune.example", "fachverfahren.kommune.example."),
    ],
)
def test_allowed_host_names_match_as_urls_carry_them(entry: str, host: str) -> None:
    TargetGuard(allowed_hosts=[entry]).check_addresses(host, [ipaddress.ip_address("10.0.0.5")])


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "fach verfahren.example", "https://kommune.example/"])
def test_an_allowed_host_that_is_neither_name_nor_address_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match=r"neither an IP address|cannot contain"):
        canonical_host(entry)


async def test_a_host_name_resolves_to_checked_addresses_only() -> None:
    with pytest.raises(TargetRefused, match="localhost resolves to the non-public address"):
        await TargetGuard().resolve("localhost", 443)
    with pytest.raises(TargetRefused, match="does not resolve"):
        await TargetGuard().resolve("sender.invalid", 443)
    for permitted in (TargetGuard(allowed_hosts=["LocalHost."]), TargetGuard(allow_loopback=True)):
        addresses = await permitted.resolve("localhost", 443)
        assert addresses
        assert all(address.is_loopback for address in addresses)
