"""PyTorch reference of latent MALA, driven by the benchmark over JSON lines on stdin/stdout.

The benchmark (bench/src/pytorch-race.ts) spawns this script once with /usr/bin/python3 and
alternates its own measurements with this process's, so that each of our timings sits next to one
of PyTorch's on the same machine load. The sampler here is the same kernel as the core's
`sampler.step()` with the identity preconditioner:

    mu(z)  = z + (h / 2) grad log pi(z)
    z'     = mu(z) + sqrt(h) xi,  xi ~ N(0, I)
    log a  = log pi(z') - log pi(z) + log N(z; mu(z'), h I) - log N(z'; mu(z), h I)

with gradients by autograd, the model in float32 and log-densities and proposal densities in
float64, as the core does. The flows are the PyTorch modules of fixtures/scripts/common.py,
rebuilt from each fixture's architecture.json and loaded with its weights.json.

Protocol: one JSON object per line in, one per line out. Every reply has "ok"; a failure replies
{"ok": false, "error": "..."} and the process keeps serving. Commands ("cmd"):

    hello                          -> versions, thread counts, the BLAS library and its threads
    threads   {threads}            -> torch.set_num_threads(threads) (call once, first)
    load      {fixture, dir}       -> builds the flow; returns latentDim, dataShape, weightCount
    logdensity {target, n, z}      -> logPi [n] (float64) and grad [n * d] at the latent batch z
    init      {target, chains, stepSize, seed, z?}  -> starts a chain batch (untimed)
    steps     {steps}              -> runs that many MALA steps; returns seconds and acceptance
    profile   {steps, limit?}      -> runs steps under torch.profiler; self CPU time by operator
    quit

A target is {"kind": "tempered", "beta": b}: log pi(z) = log N(z; 0, I) - b logdet(z).
"""

import json
import math
import os
import sys
import time
import types

# Debian's PyTorch parallelises with its OpenMP pool and calls a BLAS (OpenBLAS, when installed)
# that starts a thread pool of its own. Two pools on the same cores fight: on a 2-core machine,
# torch.set_num_threads(2) made the two-moons step at 256 chains eight times slower than one
# thread. The BLAS therefore runs on one thread inside torch's, which is how PyTorch runs it
# when built with MKL; set OPENBLAS_NUM_THREADS before the benchmark to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def blas_libraries():
    """Paths of the BLAS libraries this process has mapped, after one matrix product.

    Debian's PyTorch is built against the generic BLAS interface, so its dense products run on
    whatever libblas.so.3 the system's alternatives point to: OpenBLAS, or the reference BLAS,
    which is about ten times slower on the small products of a coupling network. The race reports
    which one it measured.
    """
    torch.randn(8, 8) @ torch.randn(8, 8)
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if len(line.split()) >= 6}
    except OSError:
        return []
    return sorted(p for p in paths if "blas" in os.path.basename(p).lower())


def import_common(scripts_dir):
    """Imports fixtures/scripts/common.py, stubbing the modules it needs only for training/export.

    common.py imports onnx at the top (export only) and the Glow constructor calls
    scipy.linalg.lu for initial values that load_state_dict then overwrites; a machine with only
    python3-torch has neither, so minimal stand-ins are installed when they are missing.
    """
    try:
        import onnx  # noqa: F401
    except ImportError:
        sys.modules["onnx"] = types.ModuleType("onnx")
    try:
        import scipy.linalg  # noqa: F401
    except ImportError:
        scipy = types.ModuleType("scipy")
        linalg = types.ModuleType("scipy.linalg")

        def lu(a):
            p, lower, upper = torch.linalg.lu(torch.as_tensor(a))
            return p.numpy(), lower.numpy(), upper.numpy()

        linalg.lu = lu
        scipy.linalg = linalg
        sys.modules["scipy"] = scipy
        sys.modules["scipy.linalg"] = linalg
    sys.path.insert(0, scripts_dir)
    import common  # noqa: E402

    return common


def build_flow(common, directory):
    """The fixture's PyTorch module with its weights, in eval mode, parameters frozen."""
    with open(os.path.join(directory, "architecture.json")) as fh:
        arch = json.load(fh)
    with open(os.path.join(directory, "weights.json")) as fh:
        weights = json.load(fh)
    family = arch["family"]
    layers = arch["layers"]
    d = arch["latentDim"]
    if family == "realnvp":
        couplings = [layer for layer in layers if layer["type"] == "masked-affine-coupling"]
        model = common.RealNVP(d, couplings[0]["hidden"], len(couplings))
    elif family == "nice":
        couplings = [layer for layer in layers if layer["type"] == "additive-coupling"]
        model = common.NICE(d, couplings[0]["hidden"], len(couplings))
    elif family == "glow":
        hidden = weights["steps.0.coupling.c1.weight"]["shape"][0]
        model = common.Glow(tuple(arch["dataShape"]), len(layers), hidden, 0)
    else:
        raise ValueError(f"unknown flow family {family!r} in {directory}/architecture.json")
    state = {
        name: torch.tensor(entry["data"], dtype=torch.float32).reshape(entry["shape"])
        for name, entry in weights.items()
    }
    model.load_state_dict(state, strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, arch, sum(int(v.numel()) for v in state.values())


class Target:
    """log pi(z) = log N(z; 0, I) - beta logdet(z), with its gradient by autograd."""

    def __init__(self, spec, d):
        if spec.get("kind") != "tempered":
            raise ValueError(f"unsupported target {spec!r}; only tempered is implemented")
        self.beta = float(spec["beta"])
        self.d = d

    def evaluate(self, model, z):
        """Returns (logPi float64 [n], grad float32 [n, d], x float32 [n, ...]) at z [n, d]."""
        z = z.detach().requires_grad_(True)
        x, logdet = model(z)
        objective = -0.5 * (z * z).sum() - self.beta * logdet.sum()
        (grad,) = torch.autograd.grad(objective, z)
        with torch.no_grad():
            zd = z.detach().double()
            log_pi = -0.5 * (zd * zd).sum(1) - self.d * HALF_LOG_2PI - self.beta * logdet.double()
        return log_pi, grad, x.detach()


class Chains:
    """A batch of MALA chains with a fixed step size and the identity preconditioner."""

    def __init__(self, model, target, z, step_size, seed):
        self.model = model
        self.target = target
        self.h = float(step_size)
        self.generator = torch.Generator().manual_seed(seed)
        self.z = z
        self.log_pi, self.grad, self.x = target.evaluate(model, z)

    def step(self):
        h = self.h
        with torch.no_grad():
            noise = torch.randn(self.z.shape, generator=self.generator)
            mean = self.z + (0.5 * h) * self.grad
            proposal = mean + math.sqrt(h) * noise
            forward_q = -((proposal.double() - mean.double()) ** 2).sum(1) / (2.0 * h)
        log_pi, grad, x = self.target.evaluate(self.model, proposal)
        with torch.no_grad():
            reverse_mean = proposal + (0.5 * h) * grad
            reverse_q = -((self.z.double() - reverse_mean.double()) ** 2).sum(1) / (2.0 * h)
            log_accept = log_pi - self.log_pi + reverse_q - forward_q
            finite = torch.isfinite(log_accept) & torch.isfinite(grad).all(1)
            u = torch.rand(log_accept.shape, generator=self.generator, dtype=torch.float64)
            accept = finite & (torch.log(u) < log_accept)
            rows = accept.unsqueeze(1)
            self.z = torch.where(rows, proposal, self.z)
            self.grad = torch.where(rows, grad, self.grad)
            self.x = torch.where(accept.reshape(-1, *([1] * (x.dim() - 1))), x, self.x)
            self.log_pi = torch.where(accept, log_pi, self.log_pi)
        return int(accept.sum())


def main():
    scripts_dir = os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "fixtures",
        "scripts",
    )
    common = None
    model = None
    arch = None
    chains = None
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            cmd = request.get("cmd")
            if cmd == "hello":
                reply = {
                    "torch": torch.__version__,
                    "python": sys.version.split()[0],
                    "threads": torch.get_num_threads(),
                    "interopThreads": torch.get_num_interop_threads(),
                    "blas": blas_libraries(),
                    "blasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
                }
            elif cmd == "threads":
                torch.set_num_threads(int(request["threads"]))
                reply = {"threads": torch.get_num_threads()}
            elif cmd == "load":
                if common is None:
                    common = import_common(request.get("scriptsDir", scripts_dir))
                model, arch, count = build_flow(common, request["dir"])
                chains = None
                reply = {
                    "latentDim": arch["latentDim"],
                    "dataShape": arch["dataShape"],
                    "weightCount": count,
                }
            elif cmd == "logdensity":
                d = arch["latentDim"]
                n = int(request["n"])
                z = torch.tensor(request["z"], dtype=torch.float32).reshape(n, d)
                log_pi, grad, _ = Target(request["target"], d).evaluate(model, z)
                reply = {"logPi": log_pi.tolist(), "grad": grad.reshape(-1).tolist()}
            elif cmd == "init":
                d = arch["latentDim"]
                n = int(request["chains"])
                seed = int(request["seed"])
                if request.get("z") is not None:
                    z = torch.tensor(request["z"], dtype=torch.float32).reshape(n, d)
                else:
                    z = torch.randn((n, d), generator=torch.Generator().manual_seed(seed))
                target = Target(request["target"], d)
                chains = Chains(model, target, z, request["stepSize"], seed)
                reply = {"chains": n}
            elif cmd == "steps":
                steps = int(request["steps"])
                accepted = 0
                started = time.perf_counter()
                for _ in range(steps):
                    accepted += chains.step()
                seconds = time.perf_counter() - started
                reply = {
                    "seconds": seconds,
                    "acceptance": accepted / (steps * chains.z.shape[0]),
                }
            elif cmd == "profile":
                from torch.profiler import ProfilerActivity, profile

                steps = int(request["steps"])
                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    for _ in range(steps):
                        chains.step()
                ops = [
                    {
                        "operator": e.key,
                        "ms": e.self_cpu_time_total / 1000.0 / steps,
                        "count": e.count / steps,
                    }
                    for e in prof.key_averages()
                ]
                total = sum(op["ms"] for op in ops)
                for op in ops:
                    op["share"] = op["ms"] / total if total > 0 else 0.0
                ops.sort(key=lambda op: -op["ms"])
                reply = {"operators": ops[: int(request.get("limit", 12))]}
            elif cmd == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                return
            else:
                raise ValueError(f"unknown command {cmd!r}")
            reply["ok"] = True
        except Exception as error:  # the benchmark reports it; the process keeps serving
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        out.write(json.dumps(reply, allow_nan=True) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
