#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Messages embed paths and spec values, which may contain newlines or terminal escape
 * sequences; escaping control bytes keeps every diagnostic on one line and stops a
 * crafted path from rewriting the user's terminal.
 */
static void write_line(const char *prefix, const char *step, const char *fmt, va_list ap) {
    char msg[1024];
    char out[4200];
    size_t n = 0;

    vsnprintf(msg, sizeof msg, fmt, ap);
    n = (size_t)snprintf(out, sizeof out, "openshell-launcher: %s%s: ", prefix, step);
    for (const unsigned char *p = (const unsigned char *)msg; *p != '\0' && n + 5 < sizeof out; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            n += (size_t)snprintf(out + n, sizeof out - n, "\\x%02x", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '\n';

    size_t off = 0;
    while (off < n) {
        ssize_t w = write(STDERR_FILENO, out + off, n - off);
        if (w <= 0) break; /* nowhere left to report; the exit code still says it */
        off += (size_t)w;
    }
}

void die_with(int code, const char *step, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line("", step, fmt, ap);
    va_end(ap);
    _exit(code);
}

void die(const char *step, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line("", step, fmt, ap);
    va_end(ap);
    _exit(EXIT_SETUP_FAILED);
}

void warn_loud(const char *step, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line("WARNING: ", step, fmt, ap);
    va_end(ap);
}

void note(const char *step, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line("note: ", step, fmt, ap);
    va_end(ap);
}
