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
