"""The environment files agree with each other, CI runs the README's test command, and the manual's links hold."""
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
    # a package conda-forge lacks comes from PyPI in the pip section, pinned exactly
    conda.update(re.findall(r"^\s+- ([\w-]+)==(\d+\.\d+)\.[\w.]+\s*$", text, flags=re.M))
    direct = pins("requirements.in")
    conda_name = {"dask": "dask-core"}    # conda-forge's "dask" also pulls pandas, bokeh, pyarrow...
    for name, version in direct.items():
        if name == "torch":
            assert "pytorch-cpu" in text
            continue
        name = conda_name.get(name, name)
        assert conda.get(name) == ".".join(version.split(".")[:2]), f"environment.yml: {name}"
    assert "-e ." in text and "conda-forge" in text


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _manual():
    """The Markdown files of the manual: the README, CONTRIBUTING.md and every page of docs/."""
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md"] + sorted((ROOT / "docs").glob("*.md"))


def test_the_readme_is_short_and_links_the_manual():
    # Issue 22: a README for learners (at most 12 KB); the rest in docs/ and CONTRIBUTING.md, linked from it.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 12 * 1024, f"README.md is {len(readme.encode())} bytes: move details to docs/"
    linked = {target.partition("#")[0] for target in _relative_links(readme)}
    wanted = {"CONTRIBUTING.md", "docs/architecture.md", "docs/checker.md", "docs/benchmarks.md", "docs/install.md"}
    assert wanted <= linked, f"README.md does not link {sorted(wanted - linked)}"


_LINK = re.compile(r"\[[^\]]*\]\(([^()\s]+)\)")


def _relative_links(markdown):
    """The targets of the inline links of ``markdown`` that point into the repository (fenced code left out)."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return [t for t in _LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", t, flags=re.I)]


def _anchors(markdown):
    """GitHub's anchors of the headings of ``markdown``: lower case, punctuation dropped, spaces as hyphens."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose, flags=re.M)}


def _broken_links(path, text):
    broken = []
    for target in _relative_links(text):
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved.read_text(encoding="utf-8")):
            broken.append(f"{target} (no such heading)")
    return broken


def test_every_relative_link_of_the_manual_resolves():
    # Links, not module names: a link in README.md, CONTRIBUTING.md or docs/ names a file (and a heading) that exists.
    seen = 0
    for path in _manual():
        text = path.read_text(encoding="utf-8")
        seen += len(_relative_links(text))
        assert not _broken_links(path, text), f"{path.name}: broken links {_broken_links(path, text)}"
    assert seen > 20
    # the check itself finds a missing file, a missing heading, and skips code and web addresses
    planted = ("[a](docs/nowhere.md) [b](README.md#no-such-heading) [c](README.md#setup) [d](https://example.org)\n"
               "```\n[e](not/checked.md)\n```\n")
    assert _broken_links(ROOT / "README.md", planted) == ["docs/nowhere.md (no such file)",
                                                          "README.md#no-such-heading (no such heading)"]


def test_every_public_function_has_a_numpy_docstring():
    # Issue 11: a one-line summary and a Parameters section (Returns when it returns something)
    # on every public function of creditlib, including the exercise modules.
    import importlib
    import inspect
    import pkgutil

    import creditlib
    import creditlib.exercises

    # every module of the package, subpackages and their private modules included (creditlib.estimators._permutation
    # defines the public shapley_permutation)
    names = [m.name for m in pkgutil.walk_packages(creditlib.__path__, "creditlib.") if not m.ispkg]
    names += [m.name for m in pkgutil.walk_packages(creditlib.__path__, "creditlib.") if m.ispkg]
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


def test_every_module_is_listed_in_the_package_docstring_and_the_module_map():
    # The package docstring names every top-level module; docs/architecture.md's module map names every module
    # file under creditlib/, subpackages included, as a path in backquotes (`creditlib/exercises/core.py`).
    import pkgutil

    import creditlib
    for module in pkgutil.iter_modules(creditlib.__path__):
        name = f"creditlib.{module.name}"
        assert f":mod:`{name}`" in creditlib.__doc__, name
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    files = [path.relative_to(ROOT).as_posix() for path in sorted((ROOT / "creditlib").rglob("*.py"))]
    assert len(files) > 20
    missing = [name for name in files if f"`{name}`" not in architecture]
    assert not missing, f"module files not in docs/architecture.md's module map: {missing}"


def test_every_module_declares_all_and_no_module_imports_another_s_private_names():
    # Issue 22: every module of the package lists its public names; a private (_) name is used only in its module
    # (a private *module*, such as creditlib/estimators/_base.py, is imported by its own package only).
    import ast
    missing_all, private = [], []
    for path in sorted((ROOT / "creditlib").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = [t for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                   for t in (node.targets if isinstance(node, ast.Assign) else [node.target])]
        if path.parent != ROOT / "creditlib" or path.name != "__init__.py":
            if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                missing_all.append(name)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                outside = node.level == 0 or node.level > 1
                if any(part.startswith("_") and not part.startswith("__") for part in module.split(".")) and outside:
                    private.append(f"{name}: from {'.' * node.level}{module}")
                private += [f"{name}: {alias.name} from {module}" for alias in node.names
                            if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert not missing_all, f"modules without __all__: {missing_all}"
    assert not private, f"private names imported across modules: {private}"


def test_the_mutation_check_finds_a_function_by_name_in_reformatted_code_and_reports_a_gone_one(tmp_path):
    # tools/mutation_check.py finds each mutant's function by name anywhere in the package and matches its code as
    # a syntax tree, so moving and reformatting the library do not break it; a mutant whose function is gone is
    # reported as stale by the tool (--check-targets), not by this suite.
    import contextlib
    import importlib.util
    import io
    import textwrap

    import pytest

    import mutation_check as mc        # tools/ is on sys.path (conftest.py)

    package = tmp_path / "lib"
    (package / "moved").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "moved" / "__init__.py").write_text("")
    # the code the mutants below were written against, moved to a subpackage and reformatted: other line breaks,
    # quotes and parentheses, comments
    (package / "moved" / "rules.py").write_text(textwrap.dedent('''\
        import math


        class Rule:
            def weight(self, n, k):
                """The Shapley weight.

                Of a coalition of size k."""
                return (math.factorial(k)
                        * math.factorial(n - k - 1)   # (N - |S| - 1)!
                        / math.factorial(n))


        def check(n, limit):
            if (n > limit):
                raise ValueError('too many')
            return (n)
        '''))
    weight = mc.Mutant("weights (N-|S|)!", "Rule.weight", "math.factorial(k) * math.factorial(n - k - 1) / "
                       "math.factorial(n)", "math.factorial(k) * math.factorial(n - k) / math.factorial(n)")
    dropped = mc.Mutant("check dropped", "check", 'if n > limit:\n    raise ValueError("too many")', "")
    loose = mc.Mutant("check off by one", "check", "n > ...", "n > limit + 1")       # ... is any expression

    def load(mutant):
        mutation = mc.mutated(mutant, package)
        assert mutation.place.path == package / "moved" / "rules.py"
        mutation.place.path.write_text(mutation.after)
        try:
            spec = importlib.util.spec_from_file_location("rules", mutation.place.path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        finally:
            mutation.place.path.write_text(mutation.before)
        return module, mutation

    module, mutation = load(weight)
    assert module.Rule().weight(3, 0) == 1.0                  # 0!·3!/3!, where the code computes 0!·2!/3! = 1/3
    assert module.Rule.weight.__doc__ == "The Shapley weight.\n\n        Of a coalition of size k."   # untouched
    assert module.check(2, 3) == 2 and "n - k)" in mutation.unit_after and "n - k - 1" in mutation.unit_before
    module, _ = load(dropped)
    assert module.check(5, 3) == 5 and module.Rule().weight(3, 0) == 1 / 3
    module, _ = load(loose)
    assert module.check(4, 3) == 4
    with pytest.raises(ValueError):
        module.check(5, 3)

    gone = mc.Mutant("renamed", "Rule.old_weight", "n - k - 1", "n - k")
    changed = mc.Mutant("edited", "check", "n >= limit", "False")
    twice = mc.Mutant("ambiguous", "Rule.weight", "math.factorial(...)", "1")
    for mutant, why in [(gone, "no function named Rule.old_weight"), (changed, "occurs 0 times in check"),
                        (twice, "occurs 3 times in Rule.weight")]:
        with pytest.raises(mc.Stale, match=why):
            mc.mutated(mutant, package)
    # the tool's report: where each applies, and the stale ones with their reason; exit status 1
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        status = mc.check_targets([weight, gone, dropped], package, everything=True)
    lines = report.getvalue().splitlines()
    assert status == 1 and lines[0].startswith("ok") and "lib/moved/rules.py" in lines[0]
    assert lines[1].startswith("STALE  renamed: no function named Rule.old_weight")
    assert lines[-1].startswith("2 of 3 mutants apply")


def test_every_mutant_of_the_mutation_check_is_well_formed():
    # whether each still applies to the current code is the tool's report (python tools/mutation_check.py
    # --check-targets), not a unit test: a refactor that renames a function must not fail the suite
    import mutation_check as mc
    names = [m.name for m in mc.MUTANTS]
    assert len(names) > 50 and len(set(names)) == len(names)
    for mutant in mc.MUTANTS:
        kind, old, new = mc._fragments(mutant)          # both sides parse, as expressions or as statements
        assert old and (new or kind == "stmt") and mutant.old.strip() != mutant.new.strip(), mutant.name


def _lowest_versions():
    import importlib.util
    spec = importlib.util.spec_from_file_location("lowest_versions", ROOT / "tools" / "lowest_versions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _release(version):
    return tuple(int(part) for part in re.match(r"\d+(\.\d+)*", version).group(0).split("."))


def test_the_course_lock_lies_within_the_ranges_of_pyproject():
    # Issue 21 §5: every dependency has a lower bound (make test-lowest installs it), and the pinned course
    # environment satisfies each one.
    lows, lock = _lowest_versions().lower_bounds(), pins("requirements.txt")
    assert set(lows) >= {"numpy", "scipy", "sympy", "torch", "scikit-learn", "matplotlib", "tqdm"}
    for name, low in lows.items():
        assert name in lock and _release(lock[name]) >= _release(low), f"{name}: lock {lock.get(name)} < {low}"


def test_every_package_creditlib_imports_is_a_declared_dependency():
    # Issue 21 §5: tqdm was imported by progress=True but only listed in the course extra.
    import ast
    import sys
    distribution = {"sklearn": "scikit-learn"}
    declared = set(_lowest_versions().lower_bounds())
    imported = {}
    for path in sorted((ROOT / "creditlib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "creditlib":
                    imported.setdefault(distribution.get(top, top), path.name)
    assert {"numpy", "torch", "tqdm"} <= set(imported)
    undeclared = {name: where for name, where in imported.items() if name not in declared}
    assert not undeclared, f"imported by creditlib but not in pyproject's dependencies: {undeclared}"


def test_the_declared_license_has_its_file():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'license = { text = "MIT" }' in text
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_ci_runs_the_lowest_versions_check():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test-lowest" in ci
    assert "test-lowest:" in (ROOT / "Makefile").read_text()
