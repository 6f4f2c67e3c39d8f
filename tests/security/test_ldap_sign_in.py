"""Sign-in against a real directory: the test starts OpenLDAP's slapd on a free port with a small
tree, and an LDAP user signs in through django-auth-ldap, gets department memberships from the
groups, and is refused once removed from the required group. Skipped where slapd is not installed
(Debian: apt-get install slapd ldap-utils; .ci/run installs them)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory, override_settings

from departments.models import Membership
from tests.real_worker import free_port, stop

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.integration,
    pytest.mark.skipif(
        SLAPD is None or shutil.which("ldapadd") is None, reason="slapd and ldap-utils are not installed"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("django_auth_ldap") is None, reason="the ldap extra is not installed"
    ),
]
SUFFIX = "dc=bank,dc=example"
ROOT_DN, ROOT_PW = f"cn=admin,{SUFFIX}", "root-secret"

TREE = f"""
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Bank
dc: bank

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=li.lei,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: li.lei
cn: Li Lei
sn: Li
givenName: Lei
mail: li.lei@bank.example
userPassword: directory-pw

dn: uid=han.mei,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: han.mei
cn: Han Mei
sn: Han
userPassword: other-pw

dn: cn=baton_users,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: baton_users
member: uid=li.lei,ou=people,{SUFFIX}
member: uid=han.mei,ou=people,{SUFFIX}

dn: cn=baton_CARD_CENTER_lead,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: baton_CARD_CENTER_lead
member: uid=li.lei,ou=people,{SUFFIX}

dn: cn=baton_RISK_member,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: baton_RISK_member
member: uid=li.lei,ou=people,{SUFFIX}
member: uid=han.mei,ou=people,{SUFFIX}

dn: cn=unrelated,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: unrelated
member: uid=li.lei,ou=people,{SUFFIX}
"""


@pytest.fixture
def directory(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    conf = tmp_path / "slapd.conf"
    conf.write_text(
        "\n".join(
            [
                *(
                    f"include /etc/ldap/schema/{name}.schema"
                    for name in ("core", "cosine", "inetorgperson", "nis")
                ),
                f"pidfile {tmp_path}/slapd.pid",
                "modulepath /usr/lib/ldap",
                "moduleload back_mdb",
                "database mdb",
                "maxsize 10485760",
                f'suffix "{SUFFIX}"',
                f'rootdn "{ROOT_DN}"',
                f"rootpw {ROOT_PW}",
                f"directory {data}",
                "access to attrs=userPassword by anonymous auth by * none",
                "access to * by * read",
            ]
        )
        + "\n"
    )
    url = f"ldap://127.0.0.1:{port}/"
    log = (tmp_path / "slapd.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - a fixed argv of our own, no shell
        [SLAPD, "-f", str(conf), "-h", url, "-d", "0"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        for _ in range(100):
            probe = subprocess.run(  # noqa: S603
                ["ldapsearch", "-x", "-H", url, "-b", "", "-s", "base"],  # noqa: S607
                capture_output=True,
                check=False,
            )
            if probe.returncode in (0, 32):
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"slapd did not start: {(tmp_path / 'slapd.log').read_text()}")
        ldap_cmd(url, "ldapadd", TREE)
        yield url
    finally:
        stop(server)
        log.close()


def ldap_cmd(url: str, command: str, ldif: str) -> None:
    subprocess.run(  # noqa: S603
        [command, "-x", "-H", url, "-D", ROOT_DN, "-w", ROOT_PW],
        input=ldif.encode(),
        check=True,
        capture_output=True,
    )


def _settings(url: str) -> dict:
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    return {
        "AUTHENTICATION_BACKENDS": [
            "departments.ldap.BatonLDAPBackend",
            "django.contrib.auth.backends.ModelBackend",
        ],
        "AUTH_LDAP_SERVER_URI": url,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(f"ou=people,{SUFFIX}", ldap.SCOPE_SUBTREE, "(uid=%(user)s)"),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            f"ou=groups,{SUFFIX}", ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)"
        ),
        "AUTH_LDAP_GROUP_TYPE": GroupOfNamesType(name_attr="cn"),
        "AUTH_LDAP_REQUIRE_GROUP": f"cn=baton_users,ou=groups,{SUFFIX}",
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
    }


def _sign_in(username: str, password: str):
    return authenticate(RequestFactory().post("/admin/login/"), username=username, password=password)


def test_a_directory_user_signs_in_with_memberships_from_groups_and_is_refused_once_removed(
    directory, demo_org
):
    with override_settings(**_settings(directory)):
        # When li.lei signs in with the directory password
        user = _sign_in("li.lei", "directory-pw")

        # Then the account exists with the directory's name and e-mail, and the groups' memberships
        assert user is not None and user.is_staff
        assert (user.first_name, user.email) == ("Lei", "li.lei@bank.example")
        assert set(Membership.objects.filter(user=user).values_list("department__code", "role")) == {
            ("CARD_CENTER", "lead"),
            ("RISK", "member"),
        }
        assert _sign_in("li.lei", "wrong") is None

        # When the directory moves li.lei out of risk, the next sign-in follows
        ldap_cmd(
            directory,
            "ldapmodify",
            f"dn: cn=baton_RISK_member,ou=groups,{SUFFIX}\nchangetype: modify\ndelete: member\n"
            f"member: uid=li.lei,ou=people,{SUFFIX}\n",
        )
        assert _sign_in("li.lei", "directory-pw") is not None
        assert set(Membership.objects.filter(user=user).values_list("department__code", "role")) == {
            ("CARD_CENTER", "lead")
        }

        # When li.lei is removed from the required group, sign-in is refused
        ldap_cmd(
            directory,
            "ldapmodify",
            f"dn: cn=baton_users,ou=groups,{SUFFIX}\nchangetype: modify\ndelete: member\n"
            f"member: uid=li.lei,ou=people,{SUFFIX}\n",
        )
        assert _sign_in("li.lei", "directory-pw") is None


def test_local_accounts_still_sign_in_beside_the_directory(directory, demo_org):
    with override_settings(**_settings(directory)):
        assert _sign_in("card_center_agent", "demo") is not None
