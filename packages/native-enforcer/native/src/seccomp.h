/* The seccomp filter installed right before execve (see seccomp.c for the deny list). */
#ifndef OPENSHELL_SECCOMP_H
#define OPENSHELL_SECCOMP_H

/* Installs the filter; dies on any failure (seccomp is never optional). */
void install_seccomp_filter(void);

/* 1 when this kernel accepts seccomp filters returning errno values. */
int probe_seccomp(void);

#endif
