"""Typed failures, each with a reason a clerk can act on (Thai) and an exit code.

Modelled on OCRmyPDF's exceptions: callers catch `IntakeError`, show `.reason`, log `.detail`.
"""

from __future__ import annotations


class IntakeError(Exception):
    """A file that cannot go through intake. `reason` is Thai and says what to do."""

    code = "intake_error"
    exit_code = 1
    reason = "ไม่สามารถนำเข้าแฟ้มนี้ได้"

    def __init__(self, detail: str = "", reason: str | None = None) -> None:
        self.detail = detail
        if reason is not None:
            self.reason = reason
        super().__init__(f"{self.reason} ({detail})" if detail else self.reason)


class UnsupportedFormatError(IntakeError):
    code = "unsupported_format"
    exit_code = 3
    reason = "ไม่รองรับแฟ้มชนิดนี้ รับเฉพาะ PDF, TIFF, JPEG และ PNG กรุณาสแกนใหม่เป็น PDF"


class EmptyFileError(IntakeError):
    code = "empty_file"
    exit_code = 4
    reason = "แฟ้มว่างเปล่า (ขนาด 0 ไบต์) อาจสแกนหรือคัดลอกไม่สำเร็จ กรุณาสแกนใหม่"


class CorruptFileError(IntakeError):
    code = "corrupt_file"
    exit_code = 5
    reason = "แฟ้มเสียหาย เปิดอ่านไม่ได้ กรุณาสแกนใหม่"


class EncryptedFileError(IntakeError):
    code = "encrypted_file"
    exit_code = 6
    reason = "แฟ้ม PDF ถูกตั้งรหัสผ่าน กรุณาสแกนใหม่โดยไม่ตั้งรหัสผ่าน"


class FileTooLargeError(IntakeError):
    code = "file_too_large"
    exit_code = 7
    reason = "แฟ้มใหญ่เกินกำหนด กรุณาแยกสแกนทีละฉบับ"


class TooManyPagesError(IntakeError):
    code = "too_many_pages"
    exit_code = 8
    reason = "จำนวนหน้ามากเกินกำหนด กรุณาแยกสแกนทีละฉบับ"


class BlankScanError(IntakeError):
    code = "blank_scan"
    exit_code = 9
    reason = "หน้าแรกว่างเปล่า ไม่พบข้อความ กรุณาตรวจสอบว่าวางกระดาษถูกด้านแล้วสแกนใหม่"


class OcrEngineError(IntakeError):
    code = "ocr_engine"
    exit_code = 10
    reason = "โปรแกรมอ่านข้อความ (Tesseract) ทำงานผิดพลาด กรุณาแจ้งผู้ดูแลระบบ"
