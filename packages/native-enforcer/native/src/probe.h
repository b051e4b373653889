/* `openshell-launcher --probe`: what this kernel can enforce, as one JSON object. */
#ifndef OPENSHELL_PROBE_H
#define OPENSHELL_PROBE_H

int run_probe(void);

#endif
