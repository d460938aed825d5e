/* loss_triplet.c — the triplet loss section (see loss_triplet.h). */
#include <string.h>

#include "nn/loss_triplet.h"

typedef struct {
    double margin;
    dt_mining mode;
    int64_t d;
    const double *dE, *row_loss; /* the step's feed, or NULL */
    int64_t off;
    /* mining the rows of one pass, sized at configure for the network's maxn rows: */
    double *rows; /* [maxn, d + 1] embeddings and labels */
    double *dEl;  /* [maxn, d] */
    double *trip; /* [maxn, 4]: one anchor's triplets */
    double *dist; /* [maxn] */
} trip_priv;

static dt_status triplet_configure(dt_loss_term *t, dt_ini *m, const char *sec)
{
    trip_priv q = {0};
    int mode;
    DT_TRY(dt_ini_real(m, sec, "margin", 0, 0.2, 0, 1e6, &q.margin));
    DT_TRY(dt_ini_enum(m, sec, "mining", "batch_hard", dt_mining_names, &mode));
    q.mode = (dt_mining)mode;
    q.d = t->size;
    int64_t n = t->maxn;
    size_t head = (sizeof q + 63) / 64 * 64;
    char *blk = dt_alloc(head + (size_t)(n * (q.d + 1) + n * q.d + 5 * n) * sizeof(double));
    if (!blk) return dt_error(DT_ERR_NOMEM, "out of memory for [%s]", sec);
    trip_priv *p = (trip_priv *)blk;
    *p = q;
    p->rows = (double *)(blk + head);
    p->dEl = p->rows + n * (q.d + 1);
    p->trip = p->dEl + n * q.d;
    p->dist = p->trip + 4 * n;
    t->priv = p;
    t->fused = 0;
    t->nclasses = 1 << 30; /* identities: any label */
    return DT_OK;
}

/* The rows of this pass alone: each anchor mined against them. */
static double mine_local(trip_priv *p, const dt_real *y, const int32_t *labels, int64_t n)
{
    const int64_t d = p->d, s = d + 1;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < d; k++) p->rows[i * s + k] = y[i * d + k];
        p->rows[i * s + d] = labels[i];
    }
    memset(p->dEl, 0, (size_t)(n * d) * sizeof *p->dEl);
    double sum = 0, rl;
    for (int64_t a = 0; a < n; a++) {
        int64_t nt = dt_triplet_mine(p->rows, s, n, d, a, 1, p->margin, p->mode, p->trip, n, &rl, p->dist);
        sum += rl;
        dt_triplet_add_grads(p->rows, s, d, p->trip, nt, 0, n, p->dEl);
    }
    return sum;
}

static void triplet_forward(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct)
{
    (void)correct;
    trip_priv *p = t->priv;
    const double *dE = p->dE ? p->dE + p->off * p->d : p->dEl;
    if (p->dE) {
        for (int64_t i = 0; i < n; i++) *sum += p->row_loss[p->off + i];
    } else {
        *sum += mine_local(p, t->src->y, tg->labels, n);
    }
    for (int64_t i = 0; i < n * p->d && g != 0; i++) dt_loss_put(t->src->dy, t->dy_accum, i, (dt_real)(g * dE[i]));
}

const dt_loss_ops dt_triplet_ops = {
    .type = "triplet",
    .target = DT_TARGET_LABEL,
    .configure = triplet_configure,
    .forward = triplet_forward,
    .predict = NULL,
};

dt_loss_term *dt_loss_triplet_find(dt_net *net)
{
    for (int j = 0; j < net->nlosses; j++)
        if (net->losses[j].ops == &dt_triplet_ops) return &net->losses[j];
    return NULL;
}

void dt_loss_triplet_info(const dt_loss_term *t, int64_t *d, double *margin, dt_mining *mode)
{
    const trip_priv *p = t->priv;
    *d = p->d, *margin = p->margin, *mode = p->mode;
}

void dt_loss_triplet_feed(dt_loss_term *t, const double *dE, const double *row_loss)
{
    trip_priv *p = t->priv;
    p->dE = dE, p->row_loss = row_loss, p->off = 0;
}

void dt_loss_triplet_at(dt_loss_term *t, int64_t off) { ((trip_priv *)t->priv)->off = off; }
