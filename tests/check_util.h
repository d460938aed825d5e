/* check_util.h — shared bits of the Check suites: tolerance per precision
 * and a main() that runs one suite. */
#ifndef DT_CHECK_UTIL_H
#define DT_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>

#ifdef DTRAIN_DOUBLE
#define TOL 1e-8
#else
#define TOL 2e-6
#endif

static inline int dt_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
