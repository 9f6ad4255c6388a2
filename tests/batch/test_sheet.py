"""Sample sheets: context columns, parameter columns checked by the models up front."""

from __future__ import annotations

import pytest

from blotquant.batch.sheet import PARAM_COLUMNS, discover_images, read_sample_sheet, row_params
from blotquant.blot.params import BlotParams
from blotquant.errors import ParameterError
from blotquant.ihc.params import IHCParams


def test_sheet_validation(tmp_path):
    (tmp_path / "s.csv").write_text("path,kind\na.tif,western\n")
    with pytest.raises(ParameterError, match="unknown kind"):
        read_sample_sheet(tmp_path / "s.csv")
    (tmp_path / "s.csv").write_text("sample\nx\n")
    with pytest.raises(ParameterError, match="'file' column"):
        read_sample_sheet(tmp_path / "s.csv")
    (tmp_path / "s.csv").write_text("file,role\na.tif,foo\n")
    with pytest.raises(ParameterError, match="unknown role"):
        read_sample_sheet(tmp_path / "s.csv")
    (tmp_path / "s.csv").write_text("file\na.tif\na.tif\n")
    with pytest.raises(ParameterError, match="row 3: file .* twice"):
        read_sample_sheet(tmp_path / "s.csv")
    with pytest.raises(ParameterError, match="no image files"):
        discover_images(tmp_path)


def test_parameter_columns_set_each_row(tmp_path):
    (tmp_path / "s.csv").write_text(
        "file,kind,rows,lanes,background,thresholds,mode\n"
        "a.tif,blot,ASNS;ACTB,10;9,rolling-ball,,\n"
        "b.png,ihc,,,,0.1;0.3;0.5,pixel\n"
        "c.tif,auto,,,,,\n")
    sheet = read_sample_sheet(tmp_path / "s.csv")
    (ba, ia), (bb, ib), (bc, ic) = row_params(sheet, blot=BlotParams(radius=20))
    assert ba == BlotParams(rows=("ASNS", "ACTB"), lanes=(10, 9), background="rolling-ball",
                            radius=20) and ia is None
    assert bb is None and ib == IHCParams(thresholds=(0.1, 0.3, 0.5), mode="pixel")
    assert bc == BlotParams(radius=20) and ic == IHCParams()  # auto: both models
    assert set(PARAM_COLUMNS) >= {"rows", "lanes", "target", "control", "reference_lane",
                                  "thresholds", "stains"}


def test_every_bad_row_and_column_in_one_error(tmp_path):
    (tmp_path / "s.csv").write_text(
        "file,kind,radius,background,thresholds\n"
        "a.tif,blot,-5,lane-fit,\n"
        "b.tif,blot,30,lanefit,\n"
        "c.png,ihc,,,0.5;0.4;0.6\n"
        "d.tif,blot,,,0.1;0.2;0.3\n")
    sheet = read_sample_sheet(tmp_path / "s.csv")
    with pytest.raises(ParameterError) as info:
        row_params(sheet)
    msg = str(info.value)
    assert msg.startswith(str(tmp_path / "s.csv") + ": ") and "\n" not in msg
    assert "row 2, column 'radius': must be a positive number, got '-5'" in msg
    assert "row 3, column 'background': must be one of lane-fit" in msg
    assert "row 4, column 'thresholds': must be strictly increasing" in msg
    assert "row 5, column 'thresholds': an IHC parameter, but the row's kind is blot" in msg


def test_misspelt_parameter_column_names_the_closest(tmp_path):
    (tmp_path / "s.csv").write_text("file,backgroud,treshold,patient_id\na.tif,none,0.2,P1\n")
    with pytest.raises(ParameterError) as info:
        read_sample_sheet(tmp_path / "s.csv")
    msg = str(info.value)
    assert "column 'backgroud' is not a parameter (did you mean 'background'?)" in msg
    assert "column 'treshold' is not a parameter (did you mean 'thresholds'?)" in msg
    assert "patient_id" not in msg  # other extra columns are context, kept as they are
    (tmp_path / "s.csv").write_text("file,patient_id\na.tif,P1\n")
    assert read_sample_sheet(tmp_path / "s.csv")["patient_id"].tolist() == ["P1"]


def test_row_numbers_count_comments_and_blank_files(tmp_path):
    (tmp_path / "s.csv").write_text("file,kind,radius\n# a comment\n,blot,1\n"
                                    "a.tif,blot,0\n")
    sheet = read_sample_sheet(tmp_path / "s.csv")
    assert sheet["_row"].tolist() == [4]  # header = row 1, as in a spreadsheet
    with pytest.raises(ParameterError, match="row 4, column 'radius'"):
        row_params(sheet)
