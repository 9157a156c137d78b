"""A real IMAP server for the e-mail-in tests: Dovecot (Debian's dovecot-imapd) run in the
foreground from a configuration of its own in a temporary directory, IMAPS only on a free
localhost port, with a self-signed certificate (openssl) the client trusts by file, and one
mailbox user whose password is static. Nothing of the system's Dovecot is used."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
from pathlib import Path

from tests.support.pbx import wait_until

USER, PASSWORD = "city311", "test-secret"

CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
auth_mechanisms = plain
first_valid_uid = 1
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
"""


def available() -> bool:
    return shutil.which("dovecot") is not None and shutil.which("openssl") is not None


class ImapServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.home = root / "home"

    @property
    def ca_file(self) -> Path:
        return self.root / "cert.pem"

    def start(self) -> None:
        root = self.root
        for d in ("run", "state"):
            (root / d).mkdir(parents=True, exist_ok=True)
        # the mailboxes: outside pytest's directories, which only their owner may enter
        self.home = Path(tempfile.mkdtemp(prefix="civic311-imap-"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", str(root / "key.pem"), "-out", str(self.ca_file)],
                       check=True, capture_output=True)
        if os.geteuid() == 0:  # Dovecot runs no login process and no mailbox as root
            internal, login = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
            os.chown(self.home, internal.pw_uid, internal.pw_gid)
            names = (internal.pw_name, internal.pw_name, login.pw_name)
            uid, gid = internal.pw_uid, internal.pw_gid
        else:
            me = pwd.getpwuid(os.getuid())
            names, uid, gid = (me.pw_name, me.pw_name, me.pw_name), os.getuid(), os.getgid()
        (root / "dovecot.conf").write_text(CONF.format(
            root=root, home=self.home, port=self.port, password=PASSWORD, uid=uid, gid=gid,
            internal=names[0], internal_group=names[1], login=names[2]))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(root / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(self._answers, 10, what="Dovecot to answer IMAPS")

    def _answers(self) -> bool:
        try:
            self.client().logout()
            return True
        except (OSError, imaplib.IMAP4.error):
            return False

    def client(self) -> imaplib.IMAP4_SSL:
        box = imaplib.IMAP4_SSL("127.0.0.1", self.port, timeout=10,
                                ssl_context=ssl.create_default_context(cafile=self.ca_file))
        box.login(USER, PASSWORD)
        return box

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        box = self.client()
        try:
            box.append(folder, None, None, raw)
        finally:
            box.logout()

    def create(self, folder: str) -> None:
        box = self.client()
        try:
            box.create(folder)
        finally:
            box.logout()

    def uids(self, folder: str, criterion: str = "ALL") -> list[str]:
        box = self.client()
        try:
            box.select(folder)
            _, data = box.uid("SEARCH", criterion)
            return (data[0] or b"").decode().split()
        finally:
            box.logout()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None
        shutil.rmtree(self.home, ignore_errors=True)
