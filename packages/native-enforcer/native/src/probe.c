#include "probe.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"
#include "seccomp.h"

static void print_json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

/* Asked of the kernel by trying, in a throwaway child: sysctls and LSMs can forbid it. */
static int probe_user_namespaces(void) {
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static const char *json_bool(int v) { return v ? "true" : "false"; }

int run_probe(void) {
    struct utsname u;
    int why = 0;
    int abi = probe_landlock_abi(&why);

    if (uname(&u) != 0) {
        strcpy(u.machine, "unknown");
        strcpy(u.release, "unknown");
    }
    printf("{\"arch\":");
    print_json_string(u.machine);
    printf(",\"kernelRelease\":");
    print_json_string(u.release);
    printf(",\"landlock\":{\"abi\":%d,\"unavailableReason\":", abi);
    if (abi > 0) printf("null");
    else print_json_string(describe_landlock_absence(why));
    printf(",\"features\":{\"filesystem\":%s,\"refer\":%s,\"truncate\":%s,\"networkTcp\":%s,"
           "\"ioctlDev\":%s,\"scopeAbstractUnixSocket\":%s,\"scopeSignal\":%s,\"auditLogFlags\":%s}}",
           json_bool(abi >= 1), json_bool(abi >= 2), json_bool(abi >= 3), json_bool(abi >= 4),
           json_bool(abi >= 5), json_bool(abi >= 6), json_bool(abi >= 6), json_bool(abi >= 7));
    printf(",\"seccomp\":%s", json_bool(probe_seccomp()));
    printf(",\"userNamespaces\":%s", json_bool(probe_user_namespaces()));
    printf(",\"noNewPrivs\":%s}\n", json_bool(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0));
    return fflush(stdout) == 0 ? 0 : 1;
}
