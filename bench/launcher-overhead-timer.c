/*
 * Companion of launcher-overhead.mjs: times fork -> execve -> exit of a command directly
 * and through openshell-launcher (spec on fd 3), alternating the two on every run so that
 * load from other jobs hits both alike, and without Node's spawn cost in the numbers.
 * Usage: launcher-overhead-timer RUNS LAUNCHER SPEC_FILE CMD
 * Prints "<direct_us> <launched_us>" per run.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double run_once(const char *path, const char *spec, size_t spec_len) {
    int p[2] = {-1, -1};
    char *const argv[] = {(char *)path, NULL};
    char *const envp[] = {NULL};
    if (spec != NULL && pipe(p) != 0) exit(2);
    double start = now_us();
    pid_t pid = fork();
    if (pid == 0) {
        if (spec != NULL) {
            close(p[1]);
            dup2(p[0], 3);
        }
        execve(path, argv, envp);
        _exit(127);
    }
    if (spec != NULL) {
        close(p[0]);
        if (write(p[1], spec, spec_len) != (ssize_t)spec_len) exit(2);
        close(p[1]);
    }
    int status;
    waitpid(pid, &status, 0);
    double elapsed = now_us() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s failed: status %d\n", path, status);
        exit(1);
    }
    return elapsed;
}

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    int runs = atoi(argv[1]);
    const char *launcher = argv[2], *command = argv[4];
    int fd = open(argv[3], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return 2;
    size_t spec_len = (size_t)st.st_size;
    char *spec = malloc(spec_len);
    if (spec == NULL || read(fd, spec, spec_len) != (ssize_t)spec_len) return 2;
    close(fd);
    for (int i = 0; i < runs; i++) {
        double direct = run_once(command, NULL, 0);
        double launched = run_once(launcher, spec, spec_len);
        printf("%.1f %.1f\n", direct, launched);
    }
    return 0;
}
