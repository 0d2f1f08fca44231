"""nn building blocks: Module/Parameter bookkeeping, Linear, Embedding, Dropout, Sequential, init, clipping.

Values are held to PyTorch with copied weights (float64) where torch is installed, and to hand-computed numbers
otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_lstm import Tensor, autograd, manual_seed, nn
from tinygrad_lstm.autograd import ScopeEntry
from tinygrad_lstm.nn import init
from tinygrad_lstm.nn.utils import clip_grad_norm_, clip_grad_value_


class Net(nn.Module):
    """A small nested model: own parameter, a Sequential, and a bias-free Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
        self.head = nn.Linear(2, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x) * self.scale)


NET_NAMES = ["scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias", "head.weight"]


def torch_net():
    torch = pytest.importorskip("torch")

    class TorchNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(2))
            self.encoder = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 2))
            self.head = torch.nn.Linear(2, 1, bias=False)

    return TorchNet()


def loss_of(y: Tensor, seed: int = 0) -> Tensor:
    w = np.random.default_rng(seed).standard_normal(y.shape)
    return (y * Tensor(w.astype(y.dtype))).sum()


# ---------------------------------------------------------------------------------------------------------------
# Parameter and Module bookkeeping
# ---------------------------------------------------------------------------------------------------------------


def test_parameter_is_a_trainable_tensor():
    p = nn.Parameter(np.zeros((2, 3)))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\nTensor(")


def test_named_parameters_are_dotted_in_definition_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == NET_NAMES
    assert [p.shape for p in net.parameters()] == [(2,), (4, 3), (4,), (2, 4), (2,), (1, 2)]
    assert net.num_parameters() == 2 + 12 + 4 + 8 + 2 + 2


def test_named_parameters_match_torch():
    tnet = torch_net()
    assert [n for n, _ in Net().named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert list(Net().state_dict()) == list(tnet.state_dict())


def test_param_name_is_the_dotted_name():
    net = Net()
    for name, p in net.named_parameters():
        assert p.name == name
    # a module assigned later into another one is renamed under its new prefix
    outer = nn.Sequential(nn.Linear(1, 1), net)
    assert outer[1].encoder[2].weight.name == "1.encoder.2.weight"
    assert [n for n, _ in outer.named_parameters()][2:] == ["1." + n for n in NET_NAMES]


def test_children_and_modules():
    net = Net()
    assert list(net.children()) == [net.encoder, net.head]
    assert [n for n, _ in net.named_children()] == ["encoder", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "encoder", "encoder.0", "encoder.1", "encoder.2", "head"]
    assert list(net.encoder.children())[1] is net.encoder[1]


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]


def test_reassigning_an_attribute_unregisters_it():
    lin = nn.Linear(2, 3)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    net = Net()
    net.head = "not a module"
    assert [n for n, _ in net.named_children()] == ["encoder"]
    del net.scale
    assert "scale" not in dict(net.named_parameters())


def test_super_init_required():
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_modulelist_registers_its_modules():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
    assert len(ml) == 2 and ml[1].out_features == 1
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    ml.append(nn.Linear(1, 1))
    assert ml[2].weight.name == "2.weight"


def test_call_runs_forward_inside_a_module_scope():
    class Echo(nn.Module):
        def forward(self, a, b=0, *, c=0):
            return (a, b, c, autograd.current_scope())

    e = Echo()
    a, b, c, scope = e(1, 2, c=3)
    assert (a, b, c) == (1, 2, 3)
    assert [(s.kind, s.label) for s in scope] == [("module", "Echo")]
    assert autograd.current_scope() == ()  # restored after the call


def test_nodes_recorded_in_a_call_carry_the_module_scope():
    net = Net()
    y = net(Tensor(np.ones((2, 3)), requires_grad=True))
    matmuls = [t for t in autograd.toposort(y) if t.grad_fn is not None and t.grad_fn.op == "MatMul"]
    assert len(matmuls) == 3
    first_layer = [t for t in matmuls if t.shape == (2, 4)][0].grad_fn.scope
    assert [(s.kind, s.label, s.name) for s in first_layer] == [
        ("module", "Net", ""), ("module", "Sequential", "encoder"), ("module", "Linear", "encoder.0")]
    assert all(isinstance(s, ScopeEntry) for s in first_layer)


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_repr_is_readable():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.2), nn.Embedding(5, 2, padding_idx=0))
    assert repr(seq) == ("Sequential(\n"
                         "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
                         "  (1): Dropout(p=0.2)\n"
                         "  (2): Embedding(5, 2, padding_idx=0)\n"
                         ")")
    nested = repr(nn.Sequential(nn.Sequential(nn.Linear(1, 2, bias=False))))
    assert nested == ("Sequential(\n  (0): Sequential(\n    (0): Linear(in_features=1, out_features=2, bias=False)\n"
                      "  )\n)")


def test_linear_repr_matches_torch():
    torch = pytest.importorskip("torch")
    assert repr(nn.Linear(3, 4, bias=False)) == repr(torch.nn.Linear(3, 4, bias=False))
    assert repr(nn.Embedding(7, 2, padding_idx=-1)) == repr(torch.nn.Embedding(7, 2, padding_idx=-1))


# ---------------------------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ---------------------------------------------------------------------------------------------------------------


def test_state_dict_holds_copies():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == NET_NAMES
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    before = sd["head.weight"].copy()
    net.head.weight.data += 1.0  # training changes the parameter in place ...
    np.testing.assert_array_equal(sd["head.weight"], before)  # ... but not the saved dict
    sd["scale"][:] = 7.0
    np.testing.assert_array_equal(net.scale.data, 1.0)


def test_load_state_dict_round_trip():
    manual_seed(0)
    a = Net().double()
    manual_seed(1)
    b = Net().double()
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)))
    a.eval(), b.eval()
    assert not np.allclose(a(x).data, b(x).data)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).data, b(x).data)
    # the parameter objects are kept, their arrays overwritten
    assert b.head.weight is dict(b.named_parameters())["head.weight"]


def test_load_state_dict_casts_to_the_parameter_dtype():
    lin = nn.Linear(2, 2)  # float32
    lin.load_state_dict({"weight": np.eye(2, dtype=np.float64), "bias": [1.0, 2.0]})
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.data, np.eye(2))
    np.testing.assert_array_equal(lin.bias.data, [1, 2])


def test_load_state_dict_missing_key_raises_naming_it():
    net = Net()
    sd = net.state_dict()
    del sd["encoder.2.bias"]
    with pytest.raises(KeyError, match=r"missing keys: 'encoder\.2\.bias'"):
        net.load_state_dict(sd)


def test_load_state_dict_unexpected_key_raises_naming_it():
    net = Net()
    sd = net.state_dict()
    sd["encoder.3.weight"] = np.zeros((2, 2))
    with pytest.raises(nn.StateDictError, match=r"unexpected keys: 'encoder\.3\.weight'"):
        net.load_state_dict(sd)


def test_load_state_dict_shape_mismatch_names_key_and_both_shapes():
    net = Net()
    sd = net.state_dict()
    sd["encoder.0.weight"] = np.zeros((3, 4))
    before = net.state_dict()
    sd["scale"] = np.full(2, 5.0)  # a valid entry: must not be copied when another one fails
    for strict in (True, False):
        with pytest.raises(nn.StateDictError) as e:
            net.load_state_dict(sd, strict=strict)
        msg = str(e.value)
        assert "'encoder.0.weight'" in msg and "(3, 4)" in msg and "(4, 3)" in msg
    for k, v in net.state_dict().items():  # a failed load changes nothing
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_reports_keys_like_torch():
    sd = Net().state_dict()
    del sd["head.weight"]
    sd["extra"] = np.zeros(1)
    net = Net()
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.weight"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net.encoder[0].weight.data, sd["encoder.0.weight"])

    torch = pytest.importorskip("torch")
    t = torch_net().load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert (t.missing_keys, t.unexpected_keys) == (result.missing_keys, result.unexpected_keys)


def test_load_torch_state_dict_gives_torch_outputs():
    torch = pytest.importorskip("torch")
    tnet = torch_net().double().eval()
    net = Net().double().eval()
    net.load_state_dict(tnet.state_dict())  # torch tensors are accepted as they are
    x = np.random.default_rng(0).standard_normal((4, 3))
    expected = tnet.head(tnet.encoder(torch.from_numpy(x)) * tnet.scale).detach().numpy()
    np.testing.assert_allclose(net(Tensor(x)).data, expected, rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# train / eval, zero_grad, dtype
# ---------------------------------------------------------------------------------------------------------------


def test_train_eval_switch_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.encoder.train(False)
    assert net.training and not net.encoder[1].training


def test_eval_turns_dropout_off_in_a_model():
    manual_seed(0)
    net = Net().double()
    x = Tensor(np.random.default_rng(0).standard_normal((16, 3)))
    net.eval()
    a, b = net(x).data, net(x).data
    np.testing.assert_array_equal(a, b)  # deterministic
    w1, b1 = net.encoder[0].weight.data, net.encoder[0].bias.data
    h = x.data @ w1.T + b1
    expected = (h @ net.encoder[2].weight.data.T + net.encoder[2].bias.data) * net.scale.data
    np.testing.assert_allclose(a, expected @ net.head.weight.data.T, rtol=1e-12)
    net.train()
    assert not np.allclose(net(x).data, a)  # dropout is active again


def test_zero_grad():
    net = Net()
    loss_of(net(Tensor(np.ones((2, 3))))).backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_gradients_accumulate_until_zero_grad():
    lin = nn.Linear(2, 1)
    x = Tensor(np.array([[1.0, 2.0]], dtype=np.float32))
    lin(x).sum().backward()
    lin(x).sum().backward()
    np.testing.assert_allclose(lin.weight.grad, [[2.0, 4.0]])
    np.testing.assert_allclose(lin.bias.grad, [2.0])


def test_double_and_requires_grad():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net(Tensor(np.ones((1, 3)))).dtype == np.float64
    net.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 0
    assert all(p.dtype == np.float32 for p in net.float().parameters())


# ---------------------------------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------------------------------


def test_linear_layout_and_init_bound():
    manual_seed(0)
    lin = nn.Linear(400, 300)
    assert lin.weight.shape == (300, 400) and lin.bias.shape == (300,)  # PyTorch's (out, in)
    assert lin.weight.dtype == np.float32
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.95 * bound  # really spread over the whole interval
    assert abs(lin.weight.data.mean()) < 0.01 * bound
    assert abs(lin.weight.data.std() - bound / math.sqrt(3)) < 0.01 * bound  # std of U(-b, b) is b/√3


def test_linear_is_seeded():
    manual_seed(3)
    a = nn.Linear(3, 2).weight.data.copy()
    manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.data, a)


def test_linear_hand_computed():
    lin = nn.Linear(2, 2, dtype=np.float64)
    lin.load_state_dict({"weight": [[1.0, 2.0], [3.0, 4.0]], "bias": [0.5, -0.5]})
    x = Tensor(np.array([[1.0, -1.0]]), requires_grad=True)
    y = lin(x)
    np.testing.assert_allclose(y.data, [[1 - 2 + 0.5, 3 - 4 - 0.5]])
    y.sum().backward()
    np.testing.assert_allclose(lin.weight.grad, [[1.0, -1.0], [1.0, -1.0]])
    np.testing.assert_allclose(lin.bias.grad, [1.0, 1.0])
    np.testing.assert_allclose(x.grad, [[4.0, 6.0]])


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias):
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(3, 4, bias=bias).double()
    lin = nn.Linear(3, 4, bias=bias, dtype=np.float64)
    lin.load_state_dict(tl.state_dict())
    x_np = np.random.default_rng(1).standard_normal((2, 5, 3))
    w = np.random.default_rng(2).standard_normal((2, 5, 4))
    x = Tensor(x_np, requires_grad=True)
    y = lin(x)
    (y * Tensor(w)).sum().backward()
    tx = torch.tensor(x_np, requires_grad=True)
    ty = tl(tx)
    (ty * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    for name, p in tl.named_parameters():
        np.testing.assert_allclose(dict(lin.named_parameters())[name].grad, p.grad.numpy(), rtol=1e-12)


def test_linear_wrong_input_size():
    with pytest.raises(ValueError, match="in_features=3.*\\(2, 4\\)"):
        nn.Linear(3, 2)(Tensor(np.zeros((2, 4))))


# ---------------------------------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------------------------------


def test_embedding_looks_up_rows():
    emb = nn.Embedding(4, 2, dtype=np.float64)
    emb.load_state_dict({"weight": np.arange(8.0).reshape(4, 2)})
    out = emb(np.array([[3, 0], [1, 1]]))
    assert out.shape == (2, 2, 2)
    np.testing.assert_array_equal(out.data, [[[6, 7], [0, 1]], [[2, 3], [2, 3]]])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad, [[1, 1], [2, 2], [0, 0], [1, 1]])  # repeats add up


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    manual_seed(0)
    emb = nn.Embedding(5, 3, padding_idx=2)
    np.testing.assert_array_equal(emb.weight.data[2], 0.0)
    assert np.abs(emb.weight.data[[0, 1, 3, 4]]).min() > 0
    ids = np.array([2, 0, 2, 4])
    out = emb(ids)
    np.testing.assert_array_equal(out.data[0], 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad, [[1] * 3, [0] * 3, [0] * 3, [0] * 3, [1] * 3])
    assert nn.Embedding(5, 3, padding_idx=-1).padding_idx == 4


def test_embedding_matches_torch():
    torch = pytest.importorskip("torch")
    te = torch.nn.Embedding(6, 3, padding_idx=1).double()
    with torch.no_grad():
        te.weight[1] = torch.tensor([0.5, -1.0, 2.0])  # a non-zero padding row: still used, still frozen
    emb = nn.Embedding(6, 3, padding_idx=1, dtype=np.float64)
    emb.load_state_dict(te.state_dict())
    ids = np.array([[1, 0, 5], [1, 1, 3]])
    w = np.random.default_rng(0).standard_normal((2, 3, 3))
    out = emb(Tensor(ids))
    (out * Tensor(w)).sum().backward()
    tout = te(torch.from_numpy(ids))
    (tout * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(emb.weight.grad, te.weight.grad.numpy(), rtol=1e-12)
    assert not emb.weight.grad[1].any()


def test_embedding_errors():
    emb = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="token id 3"):
        emb(np.array([0, 3]))
    with pytest.raises(IndexError, match="token id -1"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="integer"):
        emb(np.array([0.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


# ---------------------------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------------------------


def test_dropout_train_zeroes_and_rescales():
    manual_seed(0)
    drop = nn.Dropout(0.25)
    x = Tensor(np.ones(10_000), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    assert 0.23 < 1 - kept.mean() < 0.27
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.where(kept, 1 / 0.75, 0.0))  # the same mask on the way back


def test_dropout_eval_is_identity():
    drop = nn.Dropout(0.9).eval()
    x = Tensor(np.random.default_rng(0).standard_normal(100))
    np.testing.assert_array_equal(drop(x).data, x.data)
    drop.train()
    assert (drop(x).data == 0).sum() > 50


def test_dropout_edges():
    x = Tensor(np.ones(20))
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, 1.0)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_sequential_chains_and_indexes():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    assert len(seq) == 2 and [type(m) for m in seq] == [nn.Linear, nn.Linear]
    x = Tensor(np.ones((4, 2), dtype=np.float32))
    np.testing.assert_allclose(seq(x).data, seq[1](seq[0](x)).data)
    seq.append(nn.Dropout(0.1))
    assert isinstance(seq[-1], nn.Dropout) and len(seq) == 3


# ---------------------------------------------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------------------------------------------


def test_uniform_and_normal():
    manual_seed(0)
    t = Tensor(np.empty((100, 100)))
    assert init.uniform_(t, -0.3, 0.7) is t
    assert t.data.min() >= -0.3 and t.data.max() < 0.7
    assert t.data.min() < -0.29 and t.data.max() > 0.69
    init.normal_(t, 2.0, 0.5)
    assert abs(t.data.mean() - 2.0) < 0.02 and abs(t.data.std() - 0.5) < 0.02


def test_constant_zeros_ones():
    t = Tensor(np.full((2, 3), 9.0))
    np.testing.assert_array_equal(init.zeros_(t).data, 0.0)
    np.testing.assert_array_equal(init.ones_(t).data, 1.0)
    np.testing.assert_array_equal(init.constant_(t, -2.5).data, -2.5)


@pytest.mark.parametrize("shape,fan_in,fan_out", [((200, 100), 100, 200), ((30, 20, 5), 100, 150)])
def test_xavier_uniform_bound(shape, fan_in, fan_out):
    manual_seed(0)
    t = Tensor(np.empty(shape))
    for gain in (1.0, 2.0):
        init.xavier_uniform_(t, gain=gain)
        a = gain * math.sqrt(6 / (fan_in + fan_out))
        assert np.abs(t.data).max() <= a
        assert np.abs(t.data).max() > 0.98 * a


def test_xavier_normal_and_kaiming():
    manual_seed(0)
    t = Tensor(np.empty((400, 300)))
    init.xavier_normal_(t)
    assert abs(t.data.std() - math.sqrt(2 / 700)) < 0.01 * math.sqrt(2 / 700) * 5
    init.kaiming_uniform_(t, a=math.sqrt(5))  # PyTorch's Linear default: bound = 1/√fan_in
    assert np.abs(t.data).max() <= 1 / math.sqrt(300) and np.abs(t.data).max() > 0.99 / math.sqrt(300)
    init.kaiming_uniform_(t, nonlinearity="relu")
    assert np.abs(t.data).max() <= math.sqrt(6 / 300) and np.abs(t.data).max() > 0.99 * math.sqrt(6 / 300)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (4, 2, 3)])
def test_orthogonal(shape):
    manual_seed(0)
    t = Tensor(np.empty(shape))
    init.orthogonal_(t, gain=1.0)
    q = t.data.reshape(shape[0], -1)
    small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T  # QᵀQ = I (tall) or QQᵀ = I (wide)
    np.testing.assert_allclose(small, np.eye(min(q.shape)), atol=1e-12)
    init.orthogonal_(t, gain=2.0)
    q = t.data.reshape(shape[0], -1)
    small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(small, 4 * np.eye(min(q.shape)), atol=1e-12)


def test_orthogonal_float32_and_seeded():
    manual_seed(5)
    t = nn.Parameter(np.empty((8, 8), dtype=np.float32))
    init.orthogonal_(t)
    assert t.dtype == np.float32
    np.testing.assert_allclose(t.data.T @ t.data, np.eye(8), atol=1e-5)
    first = t.data.copy()
    manual_seed(5)
    np.testing.assert_array_equal(init.orthogonal_(t).data, first)


def test_init_needs_two_axes():
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.xavier_uniform_(Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.orthogonal_(Tensor(np.zeros(3)))


# ---------------------------------------------------------------------------------------------------------------
# gradient clipping
# ---------------------------------------------------------------------------------------------------------------


def _params_with_grads(seed: int = 0):
    r = np.random.default_rng(seed)
    ps = [nn.Parameter(np.zeros(s)) for s in [(3, 4), (4,), (2, 2, 2)]]
    for p in ps:
        p.grad = r.standard_normal(p.shape)
    return ps


def test_clip_grad_norm_hand_computed():
    p = nn.Parameter(np.zeros(2))
    p.grad = np.array([3.0, 4.0])
    assert clip_grad_norm_(p, 10.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(p.grad, [3.0, 4.0])  # under the limit: untouched
    assert clip_grad_norm_([p], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)
    assert clip_grad_norm_([nn.Parameter(np.zeros(1))], 1.0) == 0.0  # no gradients at all


@pytest.mark.parametrize("max_norm,norm_type", [(0.5, 2.0), (100.0, 2.0), (1.0, 1.0), (0.3, float("inf")),
                                                (2.0, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    torch = pytest.importorskip("torch")
    ps = _params_with_grads()
    tps = [torch.zeros(p.shape, dtype=torch.float64, requires_grad=True) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = torch.from_numpy(p.grad.copy())
    ps.append(nn.Parameter(np.zeros(2)))  # a parameter without gradient is skipped
    total = clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(t_total), rel=1e-12)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)
    assert ps[-1].grad is None


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(np.zeros(2))
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    ps = _params_with_grads(1)
    expected = [np.clip(p.grad, -0.5, 0.5) for p in ps]
    clip_grad_value_(ps, 0.5)
    for p, e in zip(ps, expected):
        np.testing.assert_array_equal(p.grad, e)
    torch = pytest.importorskip("torch")
    ps = _params_with_grads(1)
    tps = [torch.zeros(p.shape, dtype=torch.float64, requires_grad=True) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = torch.from_numpy(p.grad.copy())
    clip_grad_value_(ps, 0.7)
    torch.nn.utils.clip_grad_value_(tps, 0.7)
    for p, tp in zip(ps, tps):
        np.testing.assert_array_equal(p.grad, tp.grad.numpy())


def test_clipping_a_model_after_backward():
    manual_seed(0)
    net = Net()
    loss_of(net(Tensor(np.full((8, 3), 10.0, dtype=np.float32)))).backward()
    before = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in net.parameters()))
    assert clip_grad_norm_(net.parameters(), 0.1) == pytest.approx(before, rel=1e-6)
    after = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in net.parameters()))
    assert after == pytest.approx(0.1, rel=1e-4)
