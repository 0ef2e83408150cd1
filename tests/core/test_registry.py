import pytest

from moalign.core.registry import Registry, RegistryError


def test_refuses_duplicates_and_lists_names():
    reg: Registry[type] = Registry("thing", "moalign.tests.none")

    @reg.register("a")
    class A:
        pass

    with pytest.raises(RegistryError, match="already registered"):
        reg.register("a")(type("B", (), {}))
    with pytest.raises(RegistryError, match="valid names: a"):
        reg.get("zzz")
    assert reg.get("a") is A


def test_module_colon_name_and_lazy_builtins():
    reg: Registry[object] = Registry("thing", "moalign.tests.none")
    assert reg.get("collections:OrderedDict").__name__ == "OrderedDict"
    from moalign.solvers import get_solver

    assert get_solver("random").registered_name == "random"


def test_allowed_imports_refuse_modules_and_files_outside_the_list(tmp_path, monkeypatch):
    from moalign.core.registry import (
        ALLOWED_IMPORTS_ENV,
        ImportNotAllowedError,
        check_import_allowed,
        import_object,
    )

    trusted, other = tmp_path / "trusted", tmp_path / "other"
    for folder in (trusted, other):
        folder.mkdir()
        (folder / "p.py").write_text("def make():\n    return 1\n")
    check_import_allowed("os")  # unset: everything is allowed
    monkeypatch.setenv(ALLOWED_IMPORTS_ENV, f"json, {trusted}")
    with pytest.raises(ImportNotAllowedError, match="os: not allowed by"):
        import_object("os:system")
    with pytest.raises(ImportNotAllowedError):
        import_object("jsonschema:validate")  # a prefix of the name is not a parent module
    assert import_object("json.decoder:JSONDecoder").__name__ == "JSONDecoder"
    assert import_object("moalign.core.registry:Registry") is Registry  # always allowed
    assert import_object(f"{trusted / 'p.py'}:make")() == 1
    with pytest.raises(ImportNotAllowedError, match="p.py: not allowed"):
        import_object(f"{other / 'p.py'}:make")
    with pytest.raises(ImportNotAllowedError):
        import_object(f"{trusted / '..' / 'other' / 'p.py'}:make")


def test_a_recipe_naming_code_outside_the_allow_list_is_a_bad_input(tmp_path, monkeypatch,
                                                                    capsys):
    from moalign.cli import main

    marker = tmp_path / "ran"
    (tmp_path / "r.yaml").write_text(
        f"problem: {{name: 'os:system', params: {{command: 'touch {marker}'}}}}\n"
        "solver: {name: random}\nbudget: {evaluations: 10}\n")
    monkeypatch.setenv("MOALIGN_ALLOWED_IMPORTS", "mypkg")
    assert main(["validate", str(tmp_path / "r.yaml")]) == 2
    assert capsys.readouterr().err.startswith("error: problem.name: os: not allowed by")
    assert not marker.exists()
