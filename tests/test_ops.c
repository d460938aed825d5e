/* test_ops.c — the gemm wrapper against a naive product in every transpose
 * combination, and the activations and their derivatives. */
#include <math.h>

#include "check_util.h"
#include "core/rng.h"
#include "ops/ops.h"

START_TEST(gemm_all_transposes)
{
    enum { M = 7, N = 5, K = 9 };
    dt_real a[M * K], b[K * N], c[M * N], want[M * N];
    dt_rng r;
    dt_rng_seed(&r, 2);
    for (int i = 0; i < M * K; i++) a[i] = (dt_real)dt_rng_randn(&r);
    for (int i = 0; i < K * N; i++) b[i] = (dt_real)dt_rng_randn(&r);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            /* op(A) is M x K: stored K x M when transposed */
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++)
                        s += (double)(ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
                    want[i * N + j] = (dt_real)(2 * s + 0.5 * (i - j));
                    c[i * N + j] = (dt_real)(i - j);
                }
            dt_gemm(ta, tb, M, N, K, 2, a, ta ? M : K, b, tb ? K : N, (dt_real)0.5, c, N);
            for (int i = 0; i < M * N; i++) ck_assert_double_eq_tol(c[i], want[i], 1e-4);
        }
}
END_TEST

START_TEST(activations)
{
    dt_real z[6] = {-2, -0.5, 0, 0.5, 2, 3}, y[6], dz[6], dy[6] = {1, 1, 1, 1, 1, 1};
    dt_act_forward(DT_ACT_SIGMOID, z, y, 1, 6, 0);
    ck_assert_double_eq_tol(y[0], 1 / (1 + exp(2.0)), 1e-6);
    ck_assert_double_eq_tol(y[2], 0.5, 1e-7);
    dt_act_backward(DT_ACT_SIGMOID, z, y, dy, dz, 1, 6, 0);
    ck_assert_double_eq_tol(dz[2], 0.25, 1e-7);
    dt_act_forward(DT_ACT_TANH, z, y, 1, 6, 0);
    ck_assert_double_eq_tol(y[4], tanh(2.0), 1e-6);
    dt_act_forward(DT_ACT_RELU, z, y, 1, 6, 0);
    ck_assert(y[0] == 0 && y[1] == 0 && y[3] == (dt_real)0.5);
    dt_act_backward(DT_ACT_RELU, z, y, dy, dz, 1, 6, 0);
    ck_assert(dz[1] == 0 && dz[2] == 0 && dz[5] == 1); /* the course's dZ[Z <= 0] = 0 */
    dt_act_forward(DT_ACT_LEAKY_RELU, z, y, 1, 6, (dt_real)0.1);
    ck_assert_double_eq_tol(y[0], -0.2, 1e-7);
    dt_act_backward(DT_ACT_LEAKY_RELU, z, y, dy, dz, 1, 6, (dt_real)0.1);
    ck_assert_double_eq_tol(dz[0], 0.1, 1e-7);
    /* softmax: rows sum to 1, stable for large inputs, and its Jacobian kills constant dy */
    dt_real big[6] = {1000, 1001, 1002, -3, 0, 3};
    dt_act_forward(DT_ACT_SOFTMAX, big, y, 2, 3, 0);
    for (int r = 0; r < 2; r++) ck_assert_double_eq_tol(y[3 * r] + y[3 * r + 1] + y[3 * r + 2], 1, 1e-6);
    ck_assert_double_eq_tol(y[2], 1 / (1 + exp(-1.0) + exp(-2.0)), 1e-6);
    dt_act_backward(DT_ACT_SOFTMAX, big, y, dy, dz, 2, 3, 0);
    for (int i = 0; i < 6; i++) ck_assert_double_eq_tol(dz[i], 0, 1e-6);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, gemm_all_transposes);
    tcase_add_test(tc, activations);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
