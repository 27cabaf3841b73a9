"""Surveys (アンケート): questionnaires the ward's staff build and residents answer, about the whole site, a
challenge or a trial (before and after, for its KPIs); see :mod:`cocreate.surveys.models`."""
