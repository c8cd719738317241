// Severity filters of the static report.
document.querySelectorAll('.filter input').forEach(cb => cb.addEventListener('change', () => {
  document.querySelectorAll('.finding.' + cb.value).forEach(el => { el.style.display = cb.checked ? '' : 'none'; });
}));
