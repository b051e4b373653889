/*
 * Diagnostics and exit codes of openshell-launcher.
 *
 * Every message is one line on stderr: "openshell-launcher: <step>: <error>" (warnings
 * and notes carry "WARNING:" / "note:" before the step). Exit codes follow the shell's
 * convention so callers can tell the launcher's own failure from the command's:
 *   125  set-up failed before execve (bad spec, privilege drop, Landlock hard
 *        requirement, seccomp); nothing was executed
 *   126  the command was found but could not be executed (EACCES, ENOEXEC, ...)
 *   127  the command was not found
 */
#ifndef OPENSHELL_REPORT_H
#define OPENSHELL_REPORT_H

#define EXIT_SETUP_FAILED 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127

__attribute__((noreturn, format(printf, 2, 3))) void die(const char *step, const char *fmt, ...);
__attribute__((noreturn, format(printf, 3, 4))) void die_with(int code, const char *step,
                                                              const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void warn_loud(const char *step, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void note(const char *step, const char *fmt, ...);

#endif
