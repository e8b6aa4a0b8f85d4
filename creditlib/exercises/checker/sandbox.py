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

# Syscalls refused outright, by name: (x86-64 number, AArch64 number); None where AArch64 has no such call
# (it has no fork, vfork, open, creat, unlink, rename, mkdir, ...).
_DENIED = {
    "kill": (62, 129), "tkill": (200, 130), "tgkill": (234, 131), "rt_sigqueueinfo": (129, 138),
    "rt_tgsigqueueinfo": (297, 240), "pidfd_send_signal": (424, 424), "pidfd_open": (434, 434),
    "pidfd_getfd": (438, 438), "fork": (57, None), "vfork": (58, None), "execve": (59, 221), "execveat": (322, 281),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "process_madvise": (440, 440), "process_mrelease": (448, 448), "kcmp": (312, 272), "socket": (41, 198),
    "socketpair": (53, 199), "creat": (85, None), "unlink": (87, None), "unlinkat": (263, 35), "rename": (82, None),
    "renameat": (264, 38), "renameat2": (316, 276), "link": (86, None), "linkat": (265, 37), "symlink": (88, None),
    "symlinkat": (266, 36), "mkdir": (83, None), "mkdirat": (258, 34), "rmdir": (84, None), "truncate": (76, 45),
    "ftruncate": (77, 46), "fallocate": (285, 47), "chmod": (90, None), "fchmod": (91, 52), "fchmodat": (268, 53),
    "fchmodat2": (452, 452), "chown": (92, None), "fchown": (93, 55), "lchown": (94, None), "fchownat": (260, 54),
    "setxattr": (188, 5), "lsetxattr": (189, 6), "fsetxattr": (190, 7), "removexattr": (197, 14),
    "lremovexattr": (198, 15), "fremovexattr": (199, 16), "utime": (132, None), "utimes": (235, None),
    "futimesat": (261, None), "utimensat": (280, 88), "flock": (73, 32), "mknod": (133, None), "mknodat": (259, 33),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427), "setsid": (112, 157),
    "setpgid": (109, 154), "setpriority": (141, 140), "sched_setparam": (142, 118), "sched_setscheduler": (144, 119),
    "ioprio_set": (251, 30), "migrate_pages": (256, 238), "move_pages": (279, 239), "unshare": (272, 97),
    "setns": (308, 268), "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "open_tree": (428, 428), "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431),
    "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442), "bpf": (321, 280),
    "perf_event_open": (298, 241), "userfaultfd": (323, 282), "fanotify_init": (300, 262), "keyctl": (250, 219),
    "add_key": (248, 217), "request_key": (249, 218), "openat2": (437, 437), "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264), "reboot": (169, 142), "swapon": (167, 224), "swapoff": (168, 225),
    "sethostname": (170, 161), "setdomainname": (171, 162), "init_module": (175, 105), "finit_module": (313, 273),
    "delete_module": (176, 106), "kexec_load": (246, 104), "kexec_file_load": (320, 294), "settimeofday": (164, 170),
    "clock_settime": (227, 112), "clock_adjtime": (305, 266), "adjtimex": (159, 171), "iopl": (172, None),
    "ioperm": (173, None), "quotactl": (179, 60), "syslog": (103, 116), "vhangup": (153, 58), "acct": (163, 89),
    "personality": (135, 92), "modify_ldt": (154, None),
}
_X86_64 = {name: x86 for name, (x86, _) in _DENIED.items()}
_AARCH64 = {name: arm for name, (_, arm) in _DENIED.items() if arm is not None}
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
