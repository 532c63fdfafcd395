"""Addressee resolution against the real Lampang directory: exact unit sets, or review."""

import pytest

from pipeline.route import Directory, resolve
from storage.directory import parse_directory_file

from .conftest import SAMPLES


@pytest.fixture(scope="module")
def directory() -> Directory:
    return parse_directory_file(SAMPLES / "directory.yaml")


def _units(directory: Directory, *groups: str) -> set[str]:
    return set().union(*(directory.members(g) for g in groups))


def _id(directory: Directory, name: str) -> str:
    return next(u.id for u in directory.units.values() if u.name == name)


def test_single_positions(directory: Directory) -> None:
    assert resolve("นายอำเภอเกาะคา", directory).units == {"amphoe-02"}
    assert resolve("ผู้ว่าราชการจังหวัดลำปาง", directory).units == {"governor"}
    assert resolve("คลังจังหวัดลำปาง", directory).units == {"r-06"}
    two = resolve("คลังจังหวัดลำปาง และนายอำเภอเถิน", directory)
    assert two.units == {"r-06", "amphoe-05"} and two.complete


def test_groups_and_joined_groups(directory: Directory) -> None:
    districts = resolve("นายอำเภอทุกอำเภอ", directory)
    assert districts.units == _units(directory, "amphoe-all") and len(districts.units) == 13
    joined = resolve("นายอำเภอทุกอำเภอ และหัวหน้าส่วนราชการประจำจังหวัดลำปาง", directory)
    assert joined.complete
    assert joined.units == _units(directory, "amphoe-all", "regional", "central")
    assert "i-01" not in joined.units and "governor" not in joined.units  # nothing else


def test_long_list_like_the_real_circular(directory: Directory) -> None:
    text = ("หัวหน้าส่วนราชการประจำจังหวัดลำปาง หัวหน้าส่วนราชการส่วนกลาง นายอำเภอทุกอำเภอ "
            "ผู้บริหารองค์กรปกครองส่วนท้องถิ่น และศาล อัยการ และตำรวจ")
    result = resolve(text, directory)
    assert result.complete, (result.unresolved, result.ambiguous)
    assert result.units == _units(directory, "provincial-heads", "central", "amphoe-all", "local", "justice")


@pytest.mark.parametrize("noisy", [
    "นายอำเภอทุกอำเภอ และหัวหนาส่วนราชการประจำจังหวัดลำปาง",  # a dropped tone mark
    "นายอําเภอทุกอําเภอ และหัวหน้าส่วนราชการประจําจังหวัดลําปาง",  # ํา for ำ, as OCR writes it
    "นายอำเภอทุกอำเภอ และหัวหน้าส่วนราชการประจำจังหวัดลำปาน",  # a confused consonant
    "นายอำเภอทุกอำเภอและหัวหน้าส่วนราชการประจำจังหวัดลำปาง",  # the space before และ lost
])
def test_ocr_noise_still_resolves_exactly(directory: Directory, noisy: str) -> None:
    result = resolve(noisy, directory)
    assert result.complete, (result.unresolved, result.ambiguous)
    assert result.units == _units(directory, "amphoe-all", "provincial-heads")


def test_ocr_noise_in_a_single_position(directory: Directory) -> None:
    assert resolve("นายอำเภอเกาะดา", directory).units == {"amphoe-02"}  # ค read as ด
    assert resolve("ปศุสัตวจังหวัดลำปาง", directory).units == {"r-10"}  # thanthakhat dropped


def test_ambiguous_and_unknown_go_to_review(directory: Directory) -> None:
    ambiguous = resolve("ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาระถมศึกษาลำปาง เขต", directory)
    assert not ambiguous.complete and ambiguous.ambiguous
    areas = {_id(directory, f"สำนักงานเขตพื้นที่การศึกษาระถมศึกษาลำปาง เขต {n}") for n in "๑๒๓"}
    assert areas <= set(ambiguous.ambiguous[0][1])
    unknown = resolve("อธิการบดีมหาวิทยาลัยเชียงใหม่", directory)
    assert not unknown.complete and unknown.unresolved


def test_distribution_list_decides_the_recipients(directory: Directory) -> None:
    names = ["สำนักงานสถิติจังหวัดลำปาง", "แขวงทางหลวงลำปางที่ ๒", "ที่ว่าการอำเภองาว", "เทศบาลนครลำปาง"]
    result = resolve("หัวหน้าส่วนราชการ ตามบัญชีแจ้งท้าย", directory, distribution=names)
    assert result.complete
    assert result.units == {_id(directory, name) for name in names}


def test_a_distribution_list_read_short_is_not_complete() -> None:
    from pipeline.extract.distribution import parse_distribution

    lines = ["(แจ้งท้าย)", "หน่วยงานผู้รับ (๓ หน่วยงาน)", "๑. สำนักงานสถิติจังหวัดลำปาง", "๒. เทศบาลนครลำปาง",
             "๓. ที่ว่าการอำเภองาว"]
    assert parse_distribution(lines).complete
    assert not parse_distribution(lines[:-1]).complete  # a line lost
    assert not parse_distribution([*lines[:3], "๓. ที่ว่าการอำเภองาว"]).complete  # a number skipped


def test_units_that_differ_by_their_number_only(directory: Directory) -> None:
    """The three เขต of the primary education area: the number read decides, the rest may be noisy."""
    area = "สำนักงานเขตพื้นที่การศึกษาระถมศึกษาลำปาง"  # as the real distribution list spells it
    for digit, arabic in (("๑", "1"), ("๒", "2"), ("๓", "3")):
        unit = _id(directory, f"{area} เขต {digit}")
        assert resolve(f"ผู้อำนวยการ{area} เขต {digit}", directory).units == {unit}
        assert resolve(f"ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาประถมศึกษาลำปาง เขต {arabic}", directory).units == {unit}
    assert not resolve(f"ผู้อำนวยการ{area}", directory).complete  # no number: which one is for a person


def test_a_misread_second_addressee_is_not_swallowed_by_the_first(directory: Directory) -> None:
    """`A และ B` with B misread: B goes to review, it does not vanish into a long match of A."""
    read = ("ผู้อำนวยการสถานีวิทยุกระจายเสียงแห่งประเทศไทย เพื่อการศึกษา จ.ลำปาง และนายอำเภอวงเงินย")
    resolution = resolve(read, directory)
    assert not resolution.complete and resolution.unresolved
    # A name that holds และ itself still matches whole.
    assert resolve("นายอำเภอเถิน และผู้อำนวยการกลุ่มระบาดวิทยาและข่าวกรอง สำนักงานป้องกันควบคุมโรคที่ ๑๐",
                   directory).complete
