"""Preparing station scans: coloured ink separated from black text, the page's letter size found."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.document import Page as ScanPage
from pipeline.ocr.layout import find_lines
from pipeline.ocr.preprocess import prepare
from samples.render import RED, Page, debian_font, mm


def _header(font: str = "Kinnari") -> Page:
    page = Page(debian_font(font))
    page.text(page.left, "ด่วนที่สุด", bold=True, fill=RED, scale=1.9, y=mm(28))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป ๐๔๒๑/๘๙๕๕")
    page.newline(2)
    page.labelled("เรื่อง", "การรายงานข้อมูลผู้ใช้บริการท่าอากาศยาน")
    page.newline(0.5)
    page.labelled("เรียน", "ผู้อำนวยการท่าอากาศยานลำปาง")
    return page


def _ink(rgb: np.ndarray) -> np.ndarray:
    return prepare(ScanPage(0, rgb, 300.0)).ink > 0


def test_sensor_noise_does_not_whiten_black_text() -> None:
    """Noise makes single pixels of black text look red or blue; they must not take the words with them."""
    clean = np.asarray(_header().image)
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 13, clean.shape), 0, 255).astype(np.uint8)
    text_rows = slice(mm(44), mm(80))  # below the red mark: black text only
    kept = _ink(noisy)[text_rows].sum() / _ink(clean)[text_rows].sum()
    assert kept > 0.9, kept


def test_red_mark_is_taken_out_of_the_black_text() -> None:
    rgb = np.asarray(_header().image)
    mark_rows = slice(mm(28), mm(40))
    assert (rgb[mark_rows] < 128).any(), "the mark should be on the page"
    prepared = prepare(ScanPage(0, rgb, 300.0))
    assert prepared.red is not None and (prepared.red[mark_rows] > 60).sum() > 1000
    assert prepared.ink[mark_rows].sum() == 0


def test_letter_size_is_found_among_dense_speckle() -> None:
    """A dark, uneven bilevel scan has far more 8–10 px specks than letters."""
    gray = np.asarray(_header("Loma").image.convert("L")).copy()
    rng = np.random.default_rng(2)
    for _ in range(1500):  # specks at the left edge, where the lamp light fell off
        y, x = int(rng.integers(0, gray.shape[0] - 10)), int(rng.integers(0, mm(40)))
        size = int(rng.integers(8, 11))
        gray[y:y + size, x:x + size] = 0
    layout = find_lines(np.where(gray < 128, 255, 0).astype(np.uint8))
    assert 24 <= layout.consonant_height <= 30, layout.consonant_height


def _bold_blurred_fax(page: Page) -> np.ndarray:
    """150 dpi, blurred, thresholded dark: marks run into their letters, as on a worn fax."""
    gray = np.asarray(page.image.convert("L"))
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), 1.2)
    return np.where(blurred < 200, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("turned", [False, True])
def test_bold_blurred_page_is_turned_upright(turned: bool) -> None:
    page = _header("Umpush")
    page.newline(0.5)
    for _ in range(3):
        page.paragraph("ด้วยจังหวัดลำปางได้กำหนดจัดประชุมหัวหน้าส่วนราชการประจำเดือน เพื่อให้การบริหารราชการ"
                       "เป็นไปด้วยความเรียบร้อย จึงขอเชิญท่านเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว")
    scan = _bold_blurred_fax(page)
    if turned:
        scan = np.ascontiguousarray(scan[::-1, ::-1])
    assert prepare(ScanPage(0, scan, 150.0)).upside_down is turned


def test_skew_is_measured_on_the_text_not_on_a_dark_patch() -> None:
    """A bilevel scan whose lamp light fell off toward the bottom: a black patch with speckled edges
    along the page's frame holds more ink than the text, and its rows are straight at 0°."""
    import random

    from samples.scan import ScanSettings, degrade

    page = _header("Loma")
    page.newline(0.5)
    for _ in range(2):
        page.paragraph("ด้วยจังหวัดลำปางได้กำหนดจัดประชุมหัวหน้าส่วนราชการประจำเดือน เพื่อให้การบริหารราชการ"
                       "เป็นไปด้วยความเรียบร้อย จึงขอเชิญท่านเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว")
    settings = ScanSettings(mode="gray", dpi=300, skew=1.7, blur=1.0, noise=0.0, light=0.0)
    gray = np.asarray(degrade(page.image, settings, random.Random(3))).astype(np.float32)
    rows = np.linspace(0, 1, gray.shape[0])[:, None]
    dark = gray * (1 - 0.5 * np.clip((rows - 0.5) / 0.5, 0, 1)) + np.random.default_rng(4).normal(0, 25, gray.shape)
    scan = np.where(dark < 173, 0, 255).astype(np.uint8)
    assert (scan[-200:] == 0).mean() > 0.5, "the bottom of the page should be mostly black"
    assert abs(prepare(ScanPage(0, scan, 300.0)).skew - 1.7) <= 0.2
