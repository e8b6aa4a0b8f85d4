"""The environment files agree with each other, and CI runs the README's test command."""
import re

from notebooks import ROOT


def pins(path):
    out = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.lower().replace("_", "-")] = version
    return out


def test_lock_contains_every_direct_pin_at_the_same_version():
    direct, lock = pins("requirements.in"), pins("requirements.txt")
    assert direct["torch"] == "2.13.0", "torch must stay 2.13.0 (the CPU wheel); others pull CUDA builds"
    for name, version in direct.items():
        assert lock.get(name) == version, f"{name}: requirements.in says {version}, the lock {lock.get(name)}"


def test_environment_yml_lists_the_same_packages_at_the_same_minor_versions():
    text = (ROOT / "environment.yml").read_text()
    conda = dict(re.findall(r"^\s+- ([\w-]+)=(\d+\.\d+)\s*$", text, flags=re.M))
    direct = pins("requirements.in")
    for name, version in direct.items():
        if name == "torch":
            assert "pytorch-cpu" in text
            continue
        assert conda.get(name) == ".".join(version.split(".")[:2]), f"environment.yml: {name}"
    assert "-e ." in text and "conda-forge" in text


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_public_function_has_a_numpy_docstring():
    # Issue 11: a one-line summary and a Parameters section (Returns when it returns something)
    # on every public function of creditlib, including the exercise modules.
    import importlib
    import inspect
    import pkgutil

    import creditlib
    import creditlib.exercises

    names = ["creditlib." + m.name for m in pkgutil.iter_modules(creditlib.__path__) if not m.ispkg]
    names += ["creditlib.exercises." + m.name for m in pkgutil.iter_modules(creditlib.exercises.__path__)]
    missing, seen = [], 0
    for name in names:
        module = importlib.import_module(name)
        for fname, obj in vars(module).items():
            if fname.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != name:
                continue
            seen += 1
            doc = inspect.getdoc(obj) or ""
            signature = inspect.signature(obj)
            needs_returns = bool(signature.parameters) and signature.return_annotation not in (
                None, "None", inspect.Signature.empty)   # a no-argument function: its summary says what it returns
            if (not doc or (signature.parameters and "Parameters\n----------" not in doc)
                    or (needs_returns and "Returns\n-------" not in doc)):
                missing.append(f"{name}.{fname}")
    assert seen > 100
    assert not missing, f"public functions without a NumPy docstring: {missing}"


def test_every_module_is_listed_in_the_package_docstring_and_the_readme():
    import pkgutil

    import creditlib
    readme = (ROOT / "README.md").read_text()
    for module in pkgutil.iter_modules(creditlib.__path__):
        name = f"creditlib.{module.name}"
        assert f":mod:`{name}`" in creditlib.__doc__, name
        assert f"| `{name}` |" in readme, name


def test_every_mutant_of_the_mutation_check_applies_to_the_current_code():
    # tools/mutation_check.py counts a mutant whose text is gone as surviving: keep them in step with the code.
    import importlib.util
    spec = importlib.util.spec_from_file_location("mutation_check", ROOT / "tools" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stale = [name for name, path, old, _ in module.MUTANTS if (ROOT / path).read_text().count(old) != 1]
    assert len(module.MUTANTS) > 50 and not stale, f"mutants whose text is not found exactly once: {stale}"
