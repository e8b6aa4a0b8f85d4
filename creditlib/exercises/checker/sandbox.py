"""A seccomp filter for the process that runs a reader's function answer (Linux, x86-64 and AArch64).

The checker runs a reader's function in a child process of its own (see
:mod:`creditlib.exercises.checker.function_runner`). Before the reader's code runs,
:func:`confine` installs a seccomp-bpf filter (``man 2 seccomp``) that makes the
system calls a pure computation never needs fail with ``EPERM``:

* signals to any process (``kill``, ``tgkill``, ``pidfd_send_signal``, and the indirect routes: ``fcntl``
  ``F_SETOWN``/``F_SETSIG``, ``ioctl`` ``FIOSETOWN``): the function cannot interrupt or stop the reader's
  kernel or the checker;
* new processes and programs (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``, ``execve``), and
  leaving the checker's reach (``setsid``, ``setpgid``, ``prctl(PR_SET_PDEATHSIG)``): no fork bomb, no
  shell, nothing that outlives the check; threads stay allowed;
* writing to the file system (``open``/``openat`` with a write, create, truncate or append flag, ``creat``,
  ``unlink``, ``rename``, ``truncate``, ``fchmod``, extended attributes, ``utime``, ``flock``, and
  ``io_uring``, whose requests the filter cannot see): no forged progress record, no damaged file;
* other processes' file descriptors and memory (``pidfd_getfd``, ``ptrace``, ``process_vm_*``), sockets,
  namespaces, mounts, scheduling other processes, the terminal-injecting ``ioctl``s (``TIOCSTI``,
  ``TIOCLINUX``), and what only root could do (modules, reboot, clocks, swap).

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
    "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438, "fork": 57, "vfork": 58, "execve": 59,
    "execveat": 322, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "process_madvise": 440,
    "process_mrelease": 448, "kcmp": 312, "socket": 41, "socketpair": 53, "creat": 85, "unlink": 87,
    "unlinkat": 263, "rename": 82, "renameat": 264, "renameat2": 316, "link": 86, "linkat": 265, "symlink": 88,
    "symlinkat": 266, "mkdir": 83, "mkdirat": 258, "rmdir": 84, "truncate": 76, "ftruncate": 77, "fallocate": 285,
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
    "fchownat": 260, "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197,
    "lremovexattr": 198, "fremovexattr": 199, "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
    "flock": 73, "mknod": 133, "mknodat": 259, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "setsid": 112, "setpgid": 109, "setpriority": 141, "sched_setparam": 142,
    "sched_setscheduler": 144, "ioprio_set": 251, "migrate_pages": 256, "move_pages": 279, "unshare": 272,
    "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "fanotify_init": 300, "keyctl": 250, "add_key": 248,
    "request_key": 249, "openat2": 437, "open_by_handle_at": 304, "name_to_handle_at": 303, "reboot": 169,
    "swapon": 167, "swapoff": 168, "sethostname": 170, "setdomainname": 171, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "settimeofday": 164,
    "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159, "iopl": 172, "ioperm": 173, "quotactl": 179,
    "syslog": 103, "vhangup": 153, "acct": 163, "personality": 135, "modify_ldt": 154,
}
_AARCH64 = {
    "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
    "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438, "execve": 221, "execveat": 281,
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "process_madvise": 440,
    "process_mrelease": 448, "kcmp": 272, "socket": 198, "socketpair": 199, "unlinkat": 35, "renameat": 38,
    "renameat2": 276, "linkat": 37, "symlinkat": 36, "mkdirat": 34, "truncate": 45, "ftruncate": 46,
    "fallocate": 47, "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54, "setxattr": 5,
    "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16, "utimensat": 88,
    "flock": 32, "mknodat": 33, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "setsid": 157, "setpgid": 154, "setpriority": 140, "sched_setparam": 118, "sched_setscheduler": 119,
    "ioprio_set": 30, "migrate_pages": 238, "move_pages": 239, "unshare": 97, "setns": 268, "mount": 40,
    "umount2": 39, "pivot_root": 41, "chroot": 51, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "bpf": 280, "perf_event_open": 241,
    "userfaultfd": 282, "fanotify_init": 262, "keyctl": 219, "add_key": 217, "request_key": 218, "openat2": 437,
    "open_by_handle_at": 265, "name_to_handle_at": 264, "reboot": 142, "swapon": 224, "swapoff": 225,
    "sethostname": 161, "setdomainname": 162, "init_module": 105, "finit_module": 273, "delete_module": 106,
    "kexec_load": 104, "kexec_file_load": 294, "settimeofday": 170, "clock_settime": 112, "clock_adjtime": 266,
    "adjtimex": 171, "quotactl": 60, "syslog": 116, "vhangup": 58, "acct": 89, "personality": 92,
}
# Calls allowed only with some arguments: (syscall, argument index, rule, values).
_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000      # O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND
_CLONE_THREAD = 0x00010000
_IOCTL_DENIED = (0x5412, 0x541C, 0x5410, 0x8901, 0x8902)  # TIOCSTI, TIOCLINUX, TIOCSPGRP, FIOSETOWN, SIOCSPGRP
_FCNTL_DENIED = (8, 10, 15, 1024, 1026)                   # F_SETOWN, F_SETSIG, F_SETOWN_EX, F_SETLEASE, F_NOTIFY
_PRCTL_DENIED = (1, 4, 35, 36, 0x59616D61)                # PDEATHSIG, DUMPABLE, SET_MM, CHILD_SUBREAPER, PTRACER
_RULES = {
    "x86_64": [(2, 1, "mask", _WRITE_FLAGS), (257, 2, "mask", _WRITE_FLAGS), (56, 0, "clone", _CLONE_THREAD),
               (16, 1, "values", _IOCTL_DENIED), (72, 1, "values", _FCNTL_DENIED), (157, 0, "values", _PRCTL_DENIED),
               (302, 0, "self", 0), (203, 0, "self", 0)],               # prlimit64, sched_setaffinity: pid 0 only
    "aarch64": [(56, 2, "mask", _WRITE_FLAGS), (220, 0, "clone", _CLONE_THREAD), (29, 1, "values", _IOCTL_DENIED),
                (25, 1, "values", _FCNTL_DENIED), (167, 0, "values", _PRCTL_DENIED), (261, 0, "self", 0),
                (122, 0, "self", 0)],
}
_TABLES = {"x86_64": (0xC000003E, _X86_64), "aarch64": (0xC00000B7, _AARCH64)}
SYSCALLS_DENIED = sorted(set(_X86_64) | {"open/openat with write flags", "clone without CLONE_THREAD", "clone3",
                                          "ioctl TIOCSTI/TIOCLINUX/TIOCSPGRP/FIOSETOWN/SIOCSPGRP",
                                          "fcntl F_SETOWN/F_SETSIG/F_SETOWN_EX/F_SETLEASE/F_NOTIFY",
                                          "prctl PR_SET_PDEATHSIG/DUMPABLE/MM/CHILD_SUBREAPER/PTRACER",
                                          "prlimit64 and sched_setaffinity of another process"})
"""What :func:`confine` refuses, by name (for the documentation and the tests)."""

# classic BPF opcodes
_LD_W_ABS, _JEQ_K, _JSET_K, _JGE_K, _RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
_ALLOW, _KILL = 0x7FFF0000, 0x80000000                 # SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS
_ERRNO = 0x00050000                                     # SECCOMP_RET_ERRNO | errno


def _argument_rule(arg: int, rule: str, values) -> list[tuple[int, int, int, int]]:
    """The instructions after a syscall matched: load the low 32 bits of ``arg`` and return ALLOW or EPERM."""
    eperm = _ERRNO | errno.EPERM
    load = (_LD_W_ABS, 0, 0, 16 + 8 * arg)
    if rule == "mask":                                   # deny when any of the bits is set
        return [load, (_JSET_K, 0, 1, values), (_RET_K, 0, 0, eperm), (_RET_K, 0, 0, _ALLOW)]
    if rule == "clone":                                  # deny when the bit is *not* set (a new process)
        return [load, (_JSET_K, 1, 0, values), (_RET_K, 0, 0, eperm), (_RET_K, 0, 0, _ALLOW)]
    if rule == "self":                                   # allow only the value 0 (this process)
        return [load, (_JEQ_K, 0, 1, 0), (_RET_K, 0, 0, _ALLOW), (_RET_K, 0, 0, eperm)]
    checks = [(_JEQ_K, len(values) - i, 0, v) for i, v in enumerate(values)]   # "values": deny these
    return [load] + checks + [(_RET_K, 0, 0, _ALLOW), (_RET_K, 0, 0, eperm)]


def _program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions: a list of checks, each ending in ALLOW or an errno."""
    arch, denied = _TABLES[machine]
    eperm, enosys = _ERRNO | errno.EPERM, _ERRNO | errno.ENOSYS
    out = [(_LD_W_ABS, 0, 0, 4), (_JEQ_K, 1, 0, arch), (_RET_K, 0, 0, _KILL),     # a foreign ABI: kill
           (_LD_W_ABS, 0, 0, 0)]                                                  # A = syscall number
    if machine == "x86_64":
        out += [(_JGE_K, 0, 1, 0x40000000), (_RET_K, 0, 0, _KILL)]               # x32 numbers: kill
    for number in sorted(set(denied.values())):
        out += [(_JEQ_K, 0, 1, number), (_RET_K, 0, 0, eperm)]
    out += [(_JEQ_K, 0, 1, 435), (_RET_K, 0, 0, enosys)]                         # clone3: glibc falls back to clone
    for number, arg, rule, values in _RULES[machine]:
        block = _argument_rule(arg, rule, values)
        out += [(_JEQ_K, 0, len(block), number)] + block                          # the accumulator holds the number
    return out + [(_RET_K, 0, 0, _ALLOW)]


def confine() -> bool:
    """Install the filter in this process (irreversibly); True when it is in force.

    Call it only in a process made to run untrusted code and then exit.

    Returns
    -------
    bool
        False on an OS or architecture without it, or where the kernel refused it.
    """
    machine = platform.machine().lower()
    if not sys.platform.startswith("linux") or machine not in _TABLES:
        return False
    code = b"".join(struct.pack("HBBI", *instruction) for instruction in _program(machine))
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
