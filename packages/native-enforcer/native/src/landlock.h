/* Landlock: read-only and read-write path rules plus signal/abstract-socket scoping. */
#ifndef OPENSHELL_LANDLOCK_H
#define OPENSHELL_LANDLOCK_H

#include "spec.h"

/* Highest Landlock ABI of this kernel, or 0 with *why set to the errno explaining its absence. */
int probe_landlock_abi(int *why);

/* Human explanation of the errno probe_landlock_abi reported. */
const char *describe_landlock_absence(int why);

/*
 * Builds the ruleset (opening the paths as the already-switched user, so a rule can never
 * name something that user could not reach) and restricts the process. Must run after
 * no_new_privs. best_effort degrades with a WARNING line; hard_requirement dies instead.
 */
void apply_landlock(const struct launch_spec *spec);

#endif
