/* Identity switch and capability/privilege removal, in the order DESIGN.md §3 step 5 gives. */
#ifndef OPENSHELL_PRIVILEGES_H
#define OPENSHELL_PRIVILEGES_H

#include "spec.h"

void apply_rlimits(const struct launch_spec *spec);
void drop_bounding_set(void);
void clear_ambient_caps(void);
void switch_identity(const struct launch_spec *spec);
void clear_capabilities(void);
void verify_no_privileges(const struct launch_spec *spec);
void set_no_new_privs(void);

#endif
