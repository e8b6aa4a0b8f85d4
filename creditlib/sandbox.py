"""A seccomp filter for the process that runs a reader's function answer (Linux, x86-64 and AArch64).

The checker runs a reader's function in a child process of its own (see
:func:`creditlib.checking.compare_function`). Before the reader's code runs,
:func:`confine` installs a seccomp-bpf filter (``man 2 seccomp``) that makes the
system calls a pure computation never needs fail with ``EPERM``:

* signals to any process (``kill``, ``tgkill``, ``pidfd_send_signal``, ...): the
  function cannot interrupt or stop the reader's kernel or the checker;
* new processes and programs (``fork``, ``vfork``, ``clone`` without
  ``CLONE_THREAD``, ``execve``): no fork bomb, no shell; threads stay allowed;
* writing to the file system (``open``/``openat`` with a write, create,
  truncate or append flag, ``creat``, ``unlink``, ``rename``, ``truncate``, ...):
  no forged progress record, no damaged file;
* sockets, ``ptrace``, reading or writing another process's memory, namespaces,
  mounts, and the terminal-injecting ``ioctl``s (``TIOCSTI``, ``TIOCLINUX``);
* leaving its process group (``setsid``, ``setpgid``), so the checker's kill reaches it.

Reading files, allocating memory, threads and every computation stay allowed.
A filter cannot be removed once installed (``PR_SET_NO_NEW_PRIVS`` is set first,
as the kernel requires of an unprivileged process), and it is inherited by
anything the process could still start. System calls of a foreign ABI (32-bit
``int 0x80`` on x86-64, x32) are refused as a whole.

Where seccomp is not available (another OS or architecture, or a container that
forbids it), :func:`confine` returns False and the caller says so; nothing else
changes.
"""
from __future__ import annotations

import ctypes
import errno
import platform
import struct
import sys

__all__ = ["confine", "SYSCALLS_DENIED"]

# Syscall numbers (x86-64, then AArch64, which has no fork, vfork, open, creat, unlink, rename, mkdir, ...).
_X86_64 = {
    "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
    "pidfd_send_signal": 424, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101,
    "process_vm_readv": 310, "process_vm_writev": 311, "socket": 41, "socketpair": 53, "creat": 85,
    "unlink": 87, "unlinkat": 263, "rename": 82, "renameat": 264, "renameat2": 316, "link": 86, "linkat": 265,
    "symlink": 88, "symlinkat": 266, "mkdir": 83, "mkdirat": 258, "rmdir": 84, "truncate": 76, "chmod": 90,
    "fchmodat": 268, "chown": 92, "lchown": 94, "fchownat": 260, "mknod": 133, "mknodat": 259,
    "setsid": 112, "setpgid": 109, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
    "pivot_root": 155, "chroot": 161, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "openat2": 437, "open_by_handle_at": 304, "name_to_handle_at": 303,
}
_AARCH64 = {
    "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
    "pidfd_send_signal": 424, "execve": 221, "execveat": 281, "ptrace": 117, "process_vm_readv": 270,
    "process_vm_writev": 271, "socket": 198, "socketpair": 199, "unlinkat": 35, "renameat": 38, "renameat2": 276,
    "linkat": 37, "symlinkat": 36, "mkdirat": 34, "truncate": 45, "fchmodat": 53, "fchownat": 54, "mknodat": 33,
    "setsid": 157, "setpgid": 154, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
    "chroot": 51, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "openat2": 437,
    "open_by_handle_at": 265, "name_to_handle_at": 264,
}
_TABLES = {"x86_64": (0xC000003E, _X86_64, {"open": (2, 1), "openat": (257, 2), "clone": 56, "clone3": 435,
                                             "ioctl": 16}),
           "aarch64": (0xC00000B7, _AARCH64, {"openat": (56, 2), "clone": 220, "clone3": 435, "ioctl": 29})}
SYSCALLS_DENIED = sorted(set(_X86_64) | {"open with write flags", "openat with write flags",
                                          "clone without CLONE_THREAD", "clone3", "ioctl TIOCSTI/TIOCLINUX"})
"""What :func:`confine` refuses, by name (for the documentation and the tests)."""

_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000      # O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND
_CLONE_THREAD = 0x00010000
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C

# classic BPF opcodes
_LD_W_ABS, _JEQ_K, _JSET_K, _JGE_K, _RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
_ALLOW, _KILL = 0x7FFF0000, 0x80000000                 # SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS
_ERRNO = 0x00050000                                     # SECCOMP_RET_ERRNO | errno


def _program(arch: int, denied: dict, special: dict) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions: a list of checks, each ending in ALLOW or an errno."""
    eperm, enosys = _ERRNO | errno.EPERM, _ERRNO | errno.ENOSYS
    out = [(_LD_W_ABS, 0, 0, 4), (_JEQ_K, 1, 0, arch), (_RET_K, 0, 0, _KILL),     # a foreign ABI: kill
           (_LD_W_ABS, 0, 0, 0)]                                                  # A = syscall number
    if arch == 0xC000003E:
        out += [(_JGE_K, 0, 1, 0x40000000), (_RET_K, 0, 0, _KILL)]               # x32 numbers: kill
    for number in sorted(set(denied.values())):
        out += [(_JEQ_K, 0, 1, number), (_RET_K, 0, 0, eperm)]
    out += [(_JEQ_K, 0, 1, special["clone3"]), (_RET_K, 0, 0, enosys)]          # glibc falls back to clone
    for name in ("open", "openat"):
        if name in special:
            number, arg = special[name]
            out += [(_JEQ_K, 0, 4, number), (_LD_W_ABS, 0, 0, 16 + 8 * arg),
                    (_JSET_K, 0, 1, _WRITE_FLAGS), (_RET_K, 0, 0, eperm), (_RET_K, 0, 0, _ALLOW)]
    out += [(_JEQ_K, 0, 4, special["clone"]), (_LD_W_ABS, 0, 0, 16),             # clone's flags: arg 0
            (_JSET_K, 1, 0, _CLONE_THREAD), (_RET_K, 0, 0, eperm), (_RET_K, 0, 0, _ALLOW)]
    out += [(_JEQ_K, 0, 5, special["ioctl"]), (_LD_W_ABS, 0, 0, 24),              # ioctl's request: arg 1
            (_JEQ_K, 1, 0, _TIOCSTI), (_JEQ_K, 0, 1, _TIOCLINUX), (_RET_K, 0, 0, eperm), (_RET_K, 0, 0, _ALLOW)]
    return out + [(_RET_K, 0, 0, _ALLOW)]


def confine() -> bool:
    """Install the filter in this process (irreversibly); True when it is in force.

    Call it only in a process made to run untrusted code and then exit.

    Returns
    -------
    bool
        False on an OS or architecture without it, or where the kernel refused it.
    """
    table = _TABLES.get(platform.machine().lower()) if sys.platform.startswith("linux") else None
    if table is None:
        return False
    code = b"".join(struct.pack("HBBI", *instruction) for instruction in _program(*table))
    buffer = ctypes.create_string_buffer(code, len(code))

    class _Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = _Prog(len(code) // 8, ctypes.addressof(buffer))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(38, 1, 0, 0, 0) != 0:                                   # PR_SET_NO_NEW_PRIVS
            return False
        return libc.prctl(22, 2, ctypes.byref(program), 0, 0) == 0           # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
    except (OSError, AttributeError):
        return False
