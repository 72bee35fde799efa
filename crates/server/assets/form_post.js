// OAuth 2.0 Form Post Response Mode: carry the answer to the application at once.
document.getElementById("form-post").submit();
