"""Assignment: hand-derived gradients of logistic and softmax regression, with L2.

The student's file defines

    logistic_grad(w, X, y, lam) -> dJ/dw                  (shape (d,))
        X: (N, d), last column all ones (the bias trick), so w[-1] is the bias;
        y: (N,) labels in {0, 1};
        J(w) = (1/N) sum_n -[y_n ln y_hat_n + (1 - y_n) ln(1 - y_hat_n)] + lam ||w[:-1]||^2,
        y_hat = sigma(X w): R = ||w||^2 (no 1/2), the bias w[-1] not penalised.

    softmax_grads(W, b, X, y, lam) -> (dJ/dW, dJ/db)      (shapes (K, d) and (K,))
        X: (N, d), no bias column; y: (N,) integer labels in 0..K-1;
        J(W, b) = (1/N) sum_n -ln softmax(W x_n + b)_{y_n} + (lam / 2) ||W||_F^2:
        R = 1/2 ||W||^2, the bias b not penalised.

Each gradient is compared with autodiff's (tg.testing.assert_grad_close) on a loss built from
tinygrad_hw ops; a wrong one fails with the diagnosis of the slip. When a gradient with L2 is
wrong, the feedback also checks its L2 term alone (the gradient at lam minus the one at
lam = 0). The softmax checks give half of their points for each of dJ/dW and dJ/db.
"""

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw.grading import check
from tinygrad_hw.testing import DerivationMismatch, assert_grad_close


def _l2_term(name, term, penalty, inputs, index):
    """Words on the L2 term alone of a wrong gradient. `term` is the student's gradient at lam
    minus the one at lam = 0, so the data term cancels; it is compared with autodiff's gradient
    of `penalty` for inputs[index]. penalty=None: a parameter that is not penalised."""
    alone = f"the L2 term of your {name} alone (your {name} at lam minus at lam = 0)"
    if penalty is None:
        if np.abs(term).max() <= 1e-9:
            return f"{alone} is 0, as it should be: the data term is wrong"
        return f"{alone} is not 0, but this parameter is not penalised: it gets no L2 term"
    expected = [None] * len(inputs)
    expected[index] = term
    expected = expected if len(inputs) > 1 else term  # one input: its gradient alone
    try:
        assert_grad_close(penalty, inputs, expected, names=[f"the L2 term of {name}"] * len(inputs))
    except DerivationMismatch as err:
        return f"{alone}:\n{err}"
    return f"{alone} is right: the data term is wrong"


def _logistic_check(sub, lam, seed, n=20, d=4):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.normal(size=(n, d)), np.ones((n, 1))])  # bias trick: ones last
    y = rng.integers(0, 2, n).astype(float)
    w = rng.normal(size=d + 1)

    def penalty(w):  # lam ||w||^2 without the bias
        return tg.l2_penalty(w[:-1], lam)

    def J(w):  # mean BCE from the logits, plus the penalty
        data = tg.binary_cross_entropy_with_logits(tg.Tensor(X) @ w, y)
        return data + penalty(w) if lam else data

    mine = sub.logistic_grad(w.copy(), X.copy(), y.copy(), lam)
    try:
        assert_grad_close(J, [w], mine, names=["dJ/dw"], n_examples=n)
    except DerivationMismatch as err:
        if not lam:
            raise
        term = np.asarray(mine, dtype=float) - sub.logistic_grad(w.copy(), X.copy(), y.copy(), 0.0)
        # the L2 term's diagnosis first: it is the plainer one when only that term is off
        raise AssertionError(f"{_l2_term('dJ/dw', term, penalty, [w], 0)}\n{err}") from None


@check(points=2, name="logistic regression gradient (lam = 0)")
def logistic_plain(sub):
    _logistic_check(sub, 0.0, seed=1)


@check(points=3, name="logistic regression gradient with L2, R = ||w||^2")
def logistic_l2(sub):
    _logistic_check(sub, 0.1, seed=2)


def _softmax_check(sub, lam, seed, n=12, d=5, k=3):
    """None when dJ/dW and dJ/db are both right; (0.5, the other's diagnosis) when one of
    them is; an AssertionError with both diagnoses when neither is."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.integers(0, k, n)
    W, b = rng.normal(size=(k, d)), rng.normal(size=k)

    def penalty(W, b):  # (lam / 2) ||W||^2; b not penalised
        return tg.l2_penalty(W, lam / 2)

    def J(W, b):  # mean cross-entropy from the logits, plus the penalty
        data = tg.cross_entropy(tg.Tensor(X) @ W.T + b, y)
        return data + penalty(W, b) if lam else data

    def grads(lam):
        dW, db = sub.softmax_grads(W.copy(), b.copy(), X.copy(), y.copy(), lam)
        return np.asarray(dW, dtype=float), np.asarray(db, dtype=float)

    mine = grads(lam)
    wrong = []
    for i, name in enumerate(["dJ/dW", "dJ/db"]):
        expected = [mine[0], None] if i == 0 else [None, mine[1]]
        try:
            assert_grad_close(J, [W, b], expected, names=["dJ/dW", "dJ/db"], n_examples=n)
        except DerivationMismatch as err:
            words = str(err)
            if lam:  # the L2 term's diagnosis first: the plainer one when only it is off
                term = mine[i] - grads(0.0)[i]
                words = _l2_term(name, term, penalty if i == 0 else None, [W, b], i) + "\n" + words
            wrong.append((name, words))
    if len(wrong) == 2:
        raise AssertionError("\n".join(words for _, words in wrong))
    if wrong:
        (bad, words), right = wrong[0], {"dJ/dW": "dJ/db", "dJ/db": "dJ/dW"}[wrong[0][0]]
        return 0.5, f"half the points: {right} is right, {bad} is wrong:\n{words}"
    return None


@check(points=2, name="softmax regression gradients (lam = 0)")
def softmax_plain(sub):
    return _softmax_check(sub, 0.0, seed=3)


@check(points=3, name="softmax regression gradients with L2, R = 1/2 ||W||^2")
def softmax_l2(sub):
    return _softmax_check(sub, 0.1, seed=4)
