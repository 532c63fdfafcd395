"""Pages after the first, told apart from small images (`pipeline.extract.attachments`)."""

from __future__ import annotations

import random

import numpy as np

from pipeline.document import Page as ScanPage
from pipeline.extract.attachments import PageRole, classify_pages
from pipeline.ocr.preprocess import prepare_thumbnail
from samples.render import Page, debian_font, mm
from samples.scan import ScanSettings, degrade

_TOP_RIGHT_SEED = 62  # draws a light gradient that darkens the top right corner

BODY = ("เพื่อให้การดำเนินงานเป็นไปด้วยความเรียบร้อยอย่างมีประสิทธิภาพ สอดคล้องตามระเบียบสำนักนายกรัฐมนตรี"
        "ว่าด้วยงานสารบรรณ จึงเรียนมาเพื่อโปรดทราบ")


def _thumbnail(page: Page, dark_corner: bool) -> np.ndarray:
    """The page scanned bilevel at 300 dpi as the evaluation set's hard scans are; with
    `dark_corner`, the lamp light falls off toward the top right (the scan of holdout 00167)."""
    settings = ScanSettings(mode="bilevel", dpi=300, blur=1.16, noise=8.4, light=0.38 if dark_corner else 0.0,
                            threshold=173)
    scan = degrade(page.image, settings, random.Random(_TOP_RIGHT_SEED))
    return prepare_thumbnail(ScanPage(1, np.asarray(scan.convert("L")), 300.0), 100.0)


def _continuation() -> Page:
    page = Page(debian_font("Laksaman"))
    page.y = mm(15)
    page.text((page.left + page.right - page.width("- ๒ -")) / 2, "- ๒ -")
    page.newline(2)
    page.paragraph(BODY)
    return page


def _attachment() -> Page:
    page = Page(debian_font("Laksaman"))
    page.y = mm(15)
    page.text(page.right - page.width("สิ่งที่ส่งมาด้วย ๑"), "สิ่งที่ส่งมาด้วย ๑")
    page.newline(2)
    title = "ตารางสรุปผลการเบิกจ่ายงบประมาณ"
    page.text((page.left + page.right - page.width(title)) / 2, title)
    page.newline(2)
    page.paragraph(BODY)
    return page


def test_a_dark_speckled_corner_does_not_hide_the_page_number() -> None:
    """The grain of a dark patch at the top is no text line: the page number under it still makes
    page 2 the letter's own, and the letter's attachments are not taken as arrived."""
    pages = [_thumbnail(_continuation(), dark_corner=True), _thumbnail(_attachment(), dark_corner=True)]
    assert classify_pages(pages) == [PageRole.CONTINUATION, PageRole.ATTACHMENT]
    assert classify_pages([_thumbnail(_continuation(), dark_corner=False)]) == [PageRole.CONTINUATION]
