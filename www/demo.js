// The site's own code: it records a custom event through Consentry. Before analytics consent the
// call is dropped by Consentry (nothing is queued or sent), so the site need not check consent itself.
document.getElementById('share').addEventListener('click', function () {
  if (window.Consentry) window.Consentry.capture('recipe_shared', { recipe: 'sourdough-36h' });
  document.getElementById('shared').textContent = 'Link copied.';
});
