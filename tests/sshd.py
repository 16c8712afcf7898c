# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A real OpenSSH server for the tests: ``/usr/sbin/sshd`` on a free port of
127.0.0.1, with a throw-away host key and user key, serving SFTP of a temporary
directory to the user running the tests (root or not: no system account is
made, nothing outside the temporary directory is changed but sshd's own
privilege-separation directory, which Debian's package expects)."""

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SshServer:
    """``start()`` then ``storage_options()`` for an fs.storage of protocol sftp;
    ``kill()`` cuts every connection at once (SIGKILL of the process group)."""

    def __init__(self, base_dir=None):
        self.dir = Path(tempfile.mkdtemp(prefix="crm_sshd_", dir=base_dir))
        self.root = self.dir / "files"
        self.user = getpass.getuser()
        self.port = None
        self.proc = None

    def _keygen(self, name):
        path = self.dir / name
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
            check=True,
            capture_output=True,
        )
        return path

    def start(self, timeout=15):
        if not os.path.exists(SSHD):
            raise RuntimeError(
                "OpenSSH's server is not installed (apt-get install openssh-server)."
            )
        self.root.mkdir(exist_ok=True)
        host_key = self._keygen("host_key")
        self.user_key = self._keygen("user_key")
        authorized = self.dir / "authorized_keys"
        shutil.copyfile(f"{self.user_key}.pub", authorized)
        os.chmod(authorized, 0o600)
        if os.geteuid() == 0:
            # sshd refuses to start without it when run as root
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.port = _free_port()
        self.config = self.dir / "sshd_config"
        self._write_config(host_key, authorized)
        return self._launch(timeout)

    def restart(self, timeout=15):
        """Start again, same port and keys (after ``kill`` or ``stop``)."""
        self.stop()
        return self._launch(timeout)

    def _write_config(self, host_key, authorized):
        config = self.config
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {self.dir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "UsePAM no",
                    f"AllowUsers {self.user}",
                    "Subsystem sftp internal-sftp",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )

    def _launch(self, timeout):
        with open(self.dir / "sshd.log", "wb") as log:
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"sshd stopped at once: {(self.dir / 'sshd.log').read_text()}"
                )
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not listen on port {self.port}")

    def storage_options(self):
        """The options (JSON) of an fs.storage of protocol ``sftp``."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": self.user,
            "key_filename": str(self.user_key),
            "look_for_keys": False,
            "allow_agent": False,
            "timeout": 10,
        }

    def _sessions(self):
        """Pids of the processes sshd forked (each session calls setsid():
        they are in no process group of ours)."""
        children = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                # the name may hold spaces: the parent pid follows its ")"
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.proc.pid]
        while todo:
            for child in children.get(todo.pop(), ()):
                found.append(child)
                todo.append(child)
        return found

    def _signal_all(self, sig):
        for pid in [*self._sessions(), self.proc.pid]:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        """SIGKILL sshd and every session it forked: connections cut mid-transfer."""
        if self.proc and self.proc.poll() is None:
            self._signal_all(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self._signal_all(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self._signal_all(signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
