"""CSV import pages for HR partners: upload, preview every problem by row and column, then commit."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from touchpoints.auth.access import hr_only
from touchpoints.extensions import db
from touchpoints.people import importer
from touchpoints.people.forms import ImportUploadForm
from touchpoints.people.views import bp

PREVIEW_LIMIT = 200  # rows of errors and changes shown; the counts always cover the whole file


@bp.route("/import", methods=["GET", "POST"])
@hr_only
def import_upload():
    """Upload a CSV export from the HR system; nothing changes until the preview is confirmed."""
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.csv_file.data
        try:
            batch = importer.stage_upload(upload.read(), filename=upload.filename or "people.csv",
                                          uploaded_by_id=current_user.id)
        except importer.ImportFileError as error:
            db.session.rollback()
            form.csv_file.errors = [*form.csv_file.errors, str(error)]
        else:
            db.session.commit()
            return redirect(url_for("people.import_preview", batch_id=batch.id))
    return render_template("people/import_upload.html", form=form), 400 if form.errors else 200


@bp.get("/import/<int:batch_id>")
@hr_only
def import_preview(batch_id: int):
    """What the import would do, and every problem with its row and column."""
    try:
        batch = importer.pending_batch(batch_id)
    except importer.BatchUnavailable as error:
        flash(str(error), "error")
        return redirect(url_for("people.import_upload"))
    preview = importer.validate_import(batch.content)
    db.session.rollback()  # validation only reads; end the transaction before rendering
    return render_template("people/import_preview.html", batch=batch, preview=preview,
                           limit=PREVIEW_LIMIT, labels=importer.LABELS, form=ImportUploadForm())


@bp.post("/import/<int:batch_id>")
@hr_only
def import_commit(batch_id: int):
    """Import the staged file: every row or, if anything is wrong, none."""
    try:
        outcome = importer.commit_batch(batch_id, actor_id=current_user.id)
    except importer.BatchUnavailable as error:
        flash(str(error), "error")
        return redirect(url_for("people.import_upload"))
    except importer.ImportRejected:
        flash("Something changed since the preview and the file no longer imports cleanly. "
              "Nothing was imported; check the problems below.", "error")
        return redirect(url_for("people.import_preview", batch_id=batch_id))
    db.session.commit()
    flash(f"Import finished: {outcome.summary()}.", "success")
    return redirect(url_for("people.index"))

