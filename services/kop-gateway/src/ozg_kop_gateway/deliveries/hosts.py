"""Host names and addresses in one notation each, so that an operator's entry matches a URL's host
however either was written."""

import ipaddress

from yarl import URL

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def host_name(host: str) -> str:
    """A host name as a URL carries it to the resolver: lower case, IDNA, without the root's dot."""
    name = URL.build(scheme="https", host=host.strip().rstrip(".").lower()).raw_host
    if not name:
        raise ValueError(f"{host!r} is not a host name")
    return name


def network(entry: str) -> IPNetwork | None:
    """The addresses an entry stands for (an address is a network of one); None for a host name."""
    try:
        return ipaddress.ip_network(entry.strip().strip("[]"), strict=False)
    except ValueError:
        return None


def canonical_host(entry: str) -> str:
    """An allowed-hosts entry in canonical notation: a network (10.20.0.0/16, ::1/128) or a host
    name (`host_name`); ValueError for anything else."""
    found = network(entry)
    if found is not None:
        return str(found)
    if "/" in entry or ":" in entry:
        raise ValueError(f"{entry!r} is neither an IP address or network nor a host name")
    return host_name(entry)
