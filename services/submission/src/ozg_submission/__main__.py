"""`python -m ozg_submission` serves the submission API."""

from ozg_common.service import serve
from ozg_submission.app import create_app
from ozg_submission.settings import SubmissionSettings


def main() -> None:
    settings = SubmissionSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
