#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

/*
 * Hand-written classic BPF instead of libseccomp keeps the launcher a small static binary.
 * Default allow; listed syscalls fail with EPERM so programs see an ordinary "operation
 * not permitted". Syscall numbers come from this build's own headers, so the filter only
 * ever describes the architecture it was compiled for, and checks that first.
 *
 * Only arch and nr are read on the path of syscalls that are always allowed, which lets
 * the kernel's seccomp action cache (5.11+) skip the filter for them entirely.
 */
#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "openshell-launcher supports x86_64 and aarch64 only"
#endif
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "argument loads below assume a little-endian layout of seccomp_data.args"
#endif

#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467 /* Linux 6.15; same number on every architecture */
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define NETLINK_ROUTE_PROTOCOL 0
#define TIOCSTI_REQUEST 0x5412
#define TIOCLINUX_REQUEST 0x541C

/*
 * Namespace creation is how a process with no capabilities gets a full set again: in a
 * new user namespace it is root. The prototype's child created a user+net namespace with
 * clone() although unshare/setns were filtered, so clone is checked too. CLONE_NEWTIME
 * (0x80) overlaps clone()'s exit-signal byte, so it is only part of unshare's mask.
 */
#define CLONE_NEW_FLAGS                                                                      \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
     CLONE_NEWNET)
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Always EPERM. Grouped by the attack each closes. */
static const int DENIED[] = {
    /* Reading or writing another process's memory or fds: code injection into sibling
       processes of the same uid (and seccomp bypass via ptrace on old kernels). */
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev, __NR_pidfd_getfd,
    __NR_process_madvise, __NR_kcmp,
    /* Mount-table changes: remounting a read-only bind writable, hiding or revealing paths.
       Needs CAP_SYS_ADMIN, which is gone — this is the layer that still holds if a user
       namespace were ever obtained. Includes the new mount API. */
    __NR_mount, __NR_umount2, __NR_pivot_root, __NR_fsopen, __NR_fsconfig, __NR_fsmount,
    __NR_fspick, __NR_move_mount, __NR_open_tree, __NR_open_tree_attr, __NR_mount_setattr,
    /* Joining another namespace (e.g. the host's network namespace through a leaked fd). */
    __NR_setns,
    /* Large kernel attack surface with a long record of local privilege escalations
       (eBPF verifier, perf, io_uring, whose operations also bypass seccomp), and
       userfaultfd, the usual tool for widening kernel race windows in exploits. */
    __NR_bpf, __NR_perf_event_open, __NR_userfaultfd, __NR_io_uring_setup,
    __NR_io_uring_enter, __NR_io_uring_register,
    /* Replacing the kernel or loading code into it. */
    __NR_kexec_load, __NR_kexec_file_load, __NR_init_module, __NR_finit_module,
    __NR_delete_module,
    /* The kernel keyring is not namespaced: keys of other sandboxes or the host's user. */
    __NR_keyctl, __NR_add_key, __NR_request_key,
    /* "Shocker": opening any inode of the filesystem by handle, outside every bind. */
    __NR_open_by_handle_at,
    /* Kernel log: addresses that defeat KASLR, other tenants' messages. */
    __NR_syslog,
#ifdef __NR_modify_ldt
    /* x86 LDT: needed by 16-bit code and Wine only, source of several kernel bugs. */
    __NR_modify_ldt,
#endif
#ifdef __NR_uselib
    /* a.out loader, obsolete and historically exploitable. */
    __NR_uselib,
#endif
};

/*
 * Deliberately not denied, because breaking common programs buys nothing here:
 * memfd_create/execveat (Landlock already allows executing what the sandbox can write,
 * and V8/Electron use memfd), pidfd_open/pidfd_send_signal (Python asyncio, systemd;
 * they obey the same permission checks as kill), seccomp (filters only ever add
 * restrictions; browsers sandbox themselves with it), and syscalls that need a
 * capability (reboot, swapon, settimeofday, chroot...) — the capability sets are empty
 * and namespace creation is blocked, so they cannot be reached.
 */

#define MAX_INSNS 256

struct program {
    struct sock_filter insns[MAX_INSNS];
    unsigned short len;
};

static void emit(struct program *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
    if (p->len >= MAX_INSNS) die("seccomp", "filter exceeds %d instructions", MAX_INSNS);
    p->insns[p->len++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

static void load_nr(struct program *p) {
    emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
}

/* Low 32 bits of an argument; the kernel reads flags, families and ioctl requests as int. */
static void load_arg_low(struct program *p, unsigned arg) {
    emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0,
         (uint32_t)(offsetof(struct seccomp_data, args) + arg * sizeof(uint64_t)));
}

static void ret(struct program *p, uint32_t action) { emit(p, BPF_RET | BPF_K, 0, 0, action); }

static void deny_nr(struct program *p, int nr, int err) {
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)nr);
    ret(p, SECCOMP_RET_ERRNO | (uint32_t)err);
}

/* Every block ends in a return, so the accumulator holds nr again after a skipped block. */
static void deny_when_flags(struct program *p, int nr, unsigned arg, uint32_t mask) {
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, (uint32_t)nr);
    load_arg_low(p, arg);
    emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, mask);
    ret(p, SECCOMP_RET_ERRNO | EPERM);
    ret(p, SECCOMP_RET_ALLOW);
}

/*
 * socket(): an allow-list of families rather than a deny-list, so families added to the
 * kernel later (or modules loaded on demand, such as AF_PACKET, AF_VSOCK to the
 * hypervisor, AF_BLUETOOTH, AF_ALG, AF_RDS, AF_TIPC, all with exploit histories) stay
 * closed. AF_NETLINK only for NETLINK_ROUTE, which getifaddrs() and Node's
 * os.networkInterfaces() need; audit, netfilter and uevent sockets are refused.
 */
static void filter_socket(struct program *p) {
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 9, __NR_socket);
    load_arg_low(p, 0);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 6, 0, AF_UNIX);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 5, 0, AF_INET);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 4, 0, AF_INET6);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 2, AF_NETLINK);
    load_arg_low(p, 2);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, NETLINK_ROUTE_PROTOCOL);
    ret(p, SECCOMP_RET_ERRNO | EPERM);
    ret(p, SECCOMP_RET_ALLOW);
}

/*
 * TIOCSTI pushes bytes into a terminal's input queue (typed as if by the user, outside
 * the sandbox when it shares their terminal); TIOCLINUX can do the same on a VT console.
 */
static void filter_ioctl(struct program *p) {
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 5, __NR_ioctl);
    load_arg_low(p, 1);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, TIOCSTI_REQUEST);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, TIOCLINUX_REQUEST);
    ret(p, SECCOMP_RET_ERRNO | EPERM);
    ret(p, SECCOMP_RET_ALLOW);
}

static int action_available(uint32_t action) {
    return syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

int probe_seccomp(void) {
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && action_available(SECCOMP_RET_ERRNO);
}

static void build_filter(struct program *p) {
    /* Another ABI on the same kernel (i386 via int 0x80 on x86_64) numbers syscalls
       differently and would slip past every check below: kill it outright. */
    uint32_t foreign = action_available(SECCOMP_RET_KILL_PROCESS) ? SECCOMP_RET_KILL_PROCESS
                                                                  : SECCOMP_RET_KILL_THREAD;
    emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, NATIVE_AUDIT_ARCH);
    ret(p, foreign);
    load_nr(p);
#if defined(__x86_64__)
    /* x32 syscalls arrive with AUDIT_ARCH_X86_64 and nr | __X32_SYSCALL_BIT; without
       this check, x32's "ptrace" would not equal __NR_ptrace. */
    emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000U);
    ret(p, SECCOMP_RET_ERRNO | EPERM);
#endif
    filter_ioctl(p);
    filter_socket(p);
    deny_when_flags(p, __NR_clone, 0, CLONE_NEW_FLAGS);
    deny_when_flags(p, __NR_unshare, 0, CLONE_NEW_FLAGS | CLONE_NEWTIME);
    /* clone3 passes its flags in memory that BPF cannot read. ENOSYS (not EPERM) makes
       glibc fall back to clone(), whose flags are checked above, so threads, fork,
       posix_spawn and Node's child_process keep working. */
    deny_nr(p, __NR_clone3, ENOSYS);
    for (size_t i = 0; i < sizeof DENIED / sizeof DENIED[0]; i++) deny_nr(p, DENIED[i], EPERM);
    ret(p, SECCOMP_RET_ALLOW);
}

void install_seccomp_filter(void) {
    static struct program p;
    p.len = 0;
    build_filter(&p);
    struct sock_fprog prog = {.len = p.len, .filter = p.insns};
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        if (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
            die("seccomp", "installing the filter: %s", strerror(errno));
    }
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != SECCOMP_MODE_FILTER)
        die("seccomp", "filter not active after installation");
}
